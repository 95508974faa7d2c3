import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../clock/clock';
import { errorCode } from '../http/error-code';
import type { Pacer } from '../pacing/pacer';
import type { ClosureReason } from '../webhook/close-request';
import { clip, type EsetAnswer, MAX_REQUEST_ID, MAX_RESPONSE_ID, parseBody, retryAfterMs } from './answer';
import { TokenError, type TokenProvider } from './token-provider';

/** Connection errors that prove the request never reached ESET. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The ESET calls the bridge makes; `close`, `reopen` and `comment` change an incident. */
export type EsetCallKind = 'close' | 'reopen' | 'comment' | 'read' | 'comments' | 'list';
export type MutatingCall = Extract<EsetCallKind, 'close' | 'reopen' | 'comment'>;

/**
 * One ESET request, fully described: a `response-id` re-send must repeat method, path and body
 * exactly, so the bytes are fixed once and kept (in the incident record) until the answer comes.
 */
export interface EsetRequest {
  call: EsetCallKind;
  incidentUuid?: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export type EsetCallObserver = (call: {
  call: EsetCallKind;
  resend: boolean;
  incidentUuid?: string;
  answer: EsetAnswer;
}) => void;

const incidentPath = (uuid: string) => `/v2/incidents/${encodeURIComponent(uuid)}`;

/** The requests of ESET Connect's incident-management API v2 that the bridge uses. */
export const EsetRequests = {
  close(incidentUuid: string, closureReason: ClosureReason, comment: string): EsetRequest {
    return {
      call: 'close',
      incidentUuid,
      method: 'POST',
      path: `${incidentPath(incidentUuid)}:close`,
      body: JSON.stringify({ closureReason, finalComment: { text: comment } }),
    };
  },
  reopen(incidentUuid: string, comment?: string): EsetRequest {
    return {
      call: 'reopen',
      incidentUuid,
      method: 'POST',
      path: `${incidentPath(incidentUuid)}:reopen`,
      body: JSON.stringify(comment ? { comment: { text: comment } } : {}),
    };
  },
  comment(incidentUuid: string, text: string): EsetRequest {
    return {
      call: 'comment',
      incidentUuid,
      method: 'POST',
      path: `${incidentPath(incidentUuid)}/comments`,
      body: JSON.stringify({ comment: { text } }),
    };
  },
  read(incidentUuid: string): EsetRequest {
    return { call: 'read', incidentUuid, method: 'GET', path: incidentPath(incidentUuid) };
  },
  comments(incidentUuid: string): EsetRequest {
    return { call: 'comments', incidentUuid, method: 'GET', path: `${incidentPath(incidentUuid)}/comments` };
  },
  list(query: { filter?: string; orderBy?: string; pageSize?: number; pageToken?: string }): EsetRequest {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return { call: 'list', method: 'GET', path: `/v2/incidents${qs ? `?${qs}` : ''}` };
  },
} as const;

export interface SendOptions {
  /** No call starts, and no call runs, past this time (ms since epoch). */
  deadline: number;
  /** One call's longest wait for ESET's answer (ESET answers 202 only after 30-50 s). */
  timeoutMs: number;
  /** A re-send of a request ESET answered 202 to. */
  responseId?: string;
  /** Who may wait longest for a slot in the shared budget (closes before reads and the sync). */
  priority?: 'act' | 'read' | 'sync';
}

/**
 * ESET Connect incident-management client. Every call is paced by the shared budget, bounded by
 * the caller's deadline and its own timeout, repeated once with a fresh token after a 401, never
 * follows a redirect, keeps header values within what the bridge stores, and is reported to the
 * observer (logs, metrics).
 */
export class EsetClient {
  /** 429s in a row, without another answer in between. */
  private throttled = 0;

  constructor(
    private readonly opts: {
      apiUrl: string;
      tokens: TokenProvider;
      pacer: Pacer;
      clock: Clock;
      integrationName: string;
      fetch?: typeof fetch;
      logger?: Logger;
      observe?: EsetCallObserver;
    },
  ) {}

  /**
   * A call that changes an incident is about to be made (the receive path's first close, once its
   * record is written): its slot in the budget is taken now, beside that write. Only with a token
   * at hand, so the slot is not spent waiting for a token request.
   */
  reserve(deadline: number): void {
    if (this.opts.tokens.hasToken()) this.opts.pacer.reserve?.(deadline);
  }

  async send(request: EsetRequest, options: SendOptions): Promise<EsetAnswer> {
    const started = this.opts.clock.now();
    let answer: EsetAnswer | undefined;
    for (let round = 0; round < 2; round++) {
      answer = await this.once(request, options, started);
      if (answer.kind === 'response' && answer.status === 401 && round === 0) continue;
      break;
    }
    const final = answer as EsetAnswer;
    if (final.kind === 'response' && final.status === 429) {
      // Without Retry-After, each 429 in a row doubles the shared pause (1 s, 2 s, 4 s, ...): an
      // ESET that throttles harder than its documented 10 per second is not hammered at that rate.
      this.throttled += 1;
      const backoff = 1000 * 2 ** Math.min(this.throttled - 1, 6);
      this.opts.pacer.pause(retryAfterMs(final.retryAfter, this.opts.clock.now()) ?? backoff);
    } else if (final.kind === 'response') this.throttled = 0;
    this.opts.observe?.({
      call: request.call,
      resend: options.responseId !== undefined,
      ...(request.incidentUuid ? { incidentUuid: request.incidentUuid } : {}),
      answer: final,
    });
    return final;
  }

  private async once(request: EsetRequest, options: SendOptions, started: number): Promise<EsetAnswer> {
    const { clock } = this.opts;
    const elapsed = () => clock.now() - started;
    const remaining = () => options.deadline - clock.now();
    if (remaining() <= 0) return { kind: 'not-sent', reason: 'time budget spent', latencyMs: elapsed() };

    let token: string;
    try {
      token = await this.opts.tokens.get(options.deadline);
    } catch (err) {
      const rejected = err instanceof TokenError && err.rejected;
      return {
        kind: 'not-sent',
        reason: err instanceof TokenError ? err.message : 'token unavailable',
        ...(rejected ? { authFailure: true } : {}),
        latencyMs: elapsed(),
      };
    }
    if (!(await this.opts.pacer.acquire(options.deadline, options.priority ?? 'act'))) {
      return {
        kind: 'not-sent',
        reason: 'rate budget: no slot within the time budget',
        latencyMs: elapsed(),
      };
    }
    const budget = Math.min(remaining(), options.timeoutMs);
    if (budget <= 0) return { kind: 'not-sent', reason: 'time budget spent', latencyMs: elapsed() };

    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      '3rd-integration': this.opts.integrationName,
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (options.responseId) headers['response-id'] = options.responseId;

    // A plain controller and timer: on Node 20 AbortSignal.timeout costs more than the rest of
    // the client on a warm call (measured in `npm run bench -- --explain`).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), budget);
    const signal = controller.signal;
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(`${this.opts.apiUrl}${request.path}`, {
        method: request.method,
        headers,
        body: request.body ?? null,
        signal,
        // A redirect is not ESET's answer: following one would take an HTML page for a close.
        redirect: 'manual',
      });
    } catch (err) {
      clearTimeout(timer);
      if (signal.aborted)
        return { kind: 'lost', reason: `no answer within ${budget} ms`, latencyMs: elapsed() };
      const code = errorCode(err);
      if (code && NOT_SENT_CODES.has(code))
        return { kind: 'not-sent', reason: `connection failed (${code})`, latencyMs: elapsed() };
      return { kind: 'lost', reason: `connection broken${code ? ` (${code})` : ''}`, latencyMs: elapsed() };
    }
    let text = '';
    try {
      text = await res.text();
    } catch {
      // the status line arrived; a body cut short does not change the outcome
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401) this.opts.tokens.invalidate(token);
    // An error body may quote the request's Authorization header: the token goes no further
    // (reasons are logged and stored). Replaced before the reason is clipped, which could cut it.
    const parsed = parseBody(text.split(token).join('[redacted]'), res.headers.get('content-type'));
    const requestId = res.headers.get('request-id') ?? undefined;
    const responseId = res.headers.get('response-id') ?? undefined;
    const retryAfter = res.headers.get('retry-after') ?? undefined;
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    const usable = responseId !== undefined && responseId.length <= MAX_RESPONSE_ID;
    return {
      kind: 'response',
      status: res.status,
      ...(requestId ? { requestId: requestId.slice(0, MAX_REQUEST_ID) } : {}),
      ...(responseId && usable ? { responseId } : {}),
      ...(responseId && !usable ? { responseIdUnusable: true } : {}),
      ...(retryAfter ? { retryAfter: retryAfter.slice(0, 64) } : {}),
      ...(location ? { location: clip(location, 200) } : {}),
      ...parsed,
      latencyMs: elapsed(),
    };
  }
}
