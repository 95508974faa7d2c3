import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock, RateLimiter } from '../pacing/rate-limiter';
import type { CloseRequest } from '../webhook/close-request';
import { type EsetAnswer, parseBody } from './answer';
import { TokenError, type TokenProvider } from './token-provider';

/** Connection errors that prove the request never reached ESET. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export type EsetCallObserver = (call: {
  call: 'close' | 'resend' | 'read';
  incidentUuid: string;
  answer: EsetAnswer;
}) => void;

/**
 * ESET Connect incident-management client: close, re-send with `response-id`, read.
 * Every call is paced by the rate limiter, bounded by the caller's deadline, repeated once
 * with a fresh token after a 401, and reported to the observer (logs, metrics).
 */
export class EsetClient {
  constructor(
    private readonly opts: {
      apiUrl: string;
      tokens: TokenProvider;
      limiter: RateLimiter;
      clock: Clock;
      integrationName: string;
      fetch?: typeof fetch;
      logger?: Logger;
      observe?: EsetCallObserver;
    },
  ) {}

  /** The exact bytes of a close; a `response-id` re-send must repeat them. */
  static closeBody(request: CloseRequest): string {
    return JSON.stringify({ closureReason: request.closureReason, finalComment: { text: request.comment } });
  }

  /** `POST /v2/incidents/{uuid}:close`, or its re-send with `response-id` after a 202. */
  close(request: CloseRequest, deadline: number, responseId?: string): Promise<EsetAnswer> {
    return this.call(
      responseId ? 'resend' : 'close',
      request.incidentUuid,
      'POST',
      `/v2/incidents/${encodeURIComponent(request.incidentUuid)}:close`,
      deadline,
      EsetClient.closeBody(request),
      responseId,
    );
  }

  /** `GET /v2/incidents/{uuid}`. */
  read(incidentUuid: string, deadline: number): Promise<EsetAnswer> {
    return this.call(
      'read',
      incidentUuid,
      'GET',
      `/v2/incidents/${encodeURIComponent(incidentUuid)}`,
      deadline,
    );
  }

  private async call(
    call: 'close' | 'resend' | 'read',
    incidentUuid: string,
    method: string,
    path: string,
    deadline: number,
    body?: string,
    responseId?: string,
  ): Promise<EsetAnswer> {
    const started = this.opts.clock.now();
    let answer: EsetAnswer | undefined;
    for (let round = 0; round < 2; round++) {
      answer = await this.once(method, path, deadline, started, body, responseId);
      if (answer.kind === 'response' && answer.status === 401 && round === 0) continue;
      break;
    }
    const final = answer as EsetAnswer;
    if (final.kind === 'response' && final.status === 429) {
      this.opts.limiter.pause(retryAfterMs(final.retryAfter, this.opts.clock.now()) ?? 1000);
    }
    this.opts.observe?.({ call, incidentUuid, answer: final });
    return final;
  }

  private async once(
    method: string,
    path: string,
    deadline: number,
    started: number,
    body: string | undefined,
    responseId: string | undefined,
  ): Promise<EsetAnswer> {
    const elapsed = () => this.opts.clock.now() - started;
    const remaining = () => deadline - this.opts.clock.now();
    if (remaining() <= 0) return { kind: 'not-sent', reason: 'time budget spent', latencyMs: elapsed() };

    let token: string;
    try {
      token = await this.opts.tokens.get(deadline);
    } catch (err) {
      const rejected = err instanceof TokenError && err.rejected;
      return {
        kind: 'not-sent',
        reason: err instanceof Error ? err.message : 'token unavailable',
        ...(rejected ? { authFailure: true } : {}),
        latencyMs: elapsed(),
      };
    }
    if (!(await this.opts.limiter.acquire(deadline))) {
      return { kind: 'not-sent', reason: 'rate limit: no slot within the time budget', latencyMs: elapsed() };
    }
    const budget = remaining();
    if (budget <= 0) return { kind: 'not-sent', reason: 'time budget spent', latencyMs: elapsed() };

    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      '3rd-integration': this.opts.integrationName,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (responseId) headers['response-id'] = responseId;

    // A plain controller and timer: on Node 20 AbortSignal.timeout costs more than the rest of
    // the client on a warm call (measured in `npm run bench -- --explain`).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), budget);
    const signal = controller.signal;
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(`${this.opts.apiUrl}${path}`, { method, headers, body: body ?? null, signal });
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
    const parsed = parseBody(text, res.headers.get('content-type'));
    const requestId = res.headers.get('request-id') ?? undefined;
    const newResponseId = res.headers.get('response-id') ?? undefined;
    const retryAfter = res.headers.get('retry-after') ?? undefined;
    return {
      kind: 'response',
      status: res.status,
      ...(requestId ? { requestId } : {}),
      ...(newResponseId ? { responseId: newResponseId } : {}),
      ...(retryAfter ? { retryAfter } : {}),
      ...parsed,
      latencyMs: elapsed(),
    };
  }
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
