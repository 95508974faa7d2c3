import type { Clock } from '../../functions/clock/clock';

/** One request a fake `fetch` received. */
export interface FetchCall {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  redirect: RequestInit['redirect'];
  signal: AbortSignal | undefined;
  /** The fake clock when the request was made. */
  at: number;
}

export type FetchReply = Response | Error | ((call: FetchCall) => Response | Promise<Response>);

/**
 * `fetch` as a script, with two queues: the token endpoint (`/oauth/token`) and everything else
 * (the ESET API). Without a scripted answer the token endpoint grants `tok-1`, `tok-2`, ... (with
 * refresh tokens `refresh-1`, ...); an unscripted API call fails the test with what it was.
 */
export function scriptedFetch(clock: Clock) {
  const calls: FetchCall[] = [];
  const tokenReplies: FetchReply[] = [];
  const apiReplies: FetchReply[] = [];
  let granted = 0;

  const fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: FetchCall = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
      redirect: init?.redirect,
      signal: init?.signal ?? undefined,
      at: clock.now(),
    };
    calls.push(call);
    const isToken = call.url.endsWith('/oauth/token');
    const next = isToken ? tokenReplies.shift() : apiReplies.shift();
    if (next === undefined) {
      if (!isToken) throw new Error(`ESET was not expected to be called: ${call.method} ${call.url}`);
      granted += 1;
      return grant(`tok-${granted}`, { refresh: `refresh-${granted}` });
    }
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next(call) : next;
  }) as typeof globalThis.fetch;

  return {
    fetch,
    calls,
    /** Requests to the token endpoint, with their form fields. */
    tokenCalls: () =>
      calls
        .filter((c) => c.url.endsWith('/oauth/token'))
        .map((c) => Object.fromEntries(new URLSearchParams(c.body ?? ''))),
    /** Requests to the ESET API. */
    apiCalls: () => calls.filter((c) => !c.url.endsWith('/oauth/token')),
    /** Queues the token endpoint's next answers. */
    tokens(...replies: FetchReply[]): void {
      tokenReplies.push(...replies);
    },
    /** Queues the ESET API's next answers. */
    api(...replies: FetchReply[]): void {
      apiReplies.push(...replies);
    },
  };
}

/** A 200 from the token endpoint. */
export function grant(accessToken: string, opts: { refresh?: string; expiresIn?: number } = {}): Response {
  return json(200, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: opts.expiresIn ?? 3600,
    ...(opts.refresh ? { refresh_token: opts.refresh } : {}),
  });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function empty(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** What undici throws when the connection fails: `TypeError('fetch failed')` with the cause's code. */
export function networkError(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`socket error ${code}`), { code }) });
}

/** A request that never answers until its signal aborts (then it fails as fetch does). */
export function hang(call: FetchCall): Promise<Response> {
  return new Promise((_resolve, reject) => {
    call.signal?.addEventListener('abort', () => reject(call.signal?.reason));
  });
}
