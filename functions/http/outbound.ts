import { type Clock, systemClock } from '../clock/clock';
import { retryAfterMs } from '../eset/answer';
import { errorCode } from './error-code';

/**
 * One outbound HTTP call with bounded retries, shared by the Jira client and the webhook target.
 * Every attempt has its own timeout, the whole call a deadline; 429 and transient 5xx answers
 * are retried after their `Retry-After` (seconds or an HTTP date) or else after an exponential
 * backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). Redirects
 * are never followed: a 3xx comes back as an answer like any other.
 */
export interface RetryPolicy {
  /** Longest wait for one attempt's answer, headers and body included. */
  attemptTimeoutMs: number;
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Backoff ceiling before the first retry; it doubles with every further retry. */
  baseDelayMs: number;
  /** Largest backoff ceiling. */
  maxDelayMs: number;
}

export interface OutboundDeps {
  fetch?: typeof fetch;
  clock: Clock;
  /** Jitter source in [0, 1); injectable so tests know every delay. */
  random: () => number;
}

/** What every outbound client takes: injectable fetch, clock and jitter, a budget per call, the retry policy. */
export interface OutboundOptions {
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** Budget of one public call, retries (and pages) included, when the caller gives no deadline. */
  callBudgetMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface OutboundRequest {
  url: string;
  method: string;
  /** Fixed headers, or a function giving each attempt its own (a signature over a fresh timestamp). */
  headers: Record<string, string> | ((attempt: number) => Record<string, string>);
  body?: string;
  /** ms since epoch: no attempt starts and no wait ends after it. */
  deadline: number;
  /**
   * Whether the request may be sent again after it may already have been processed: reads, and
   * writes the receiver deduplicates. Otherwise only a 429 (refused before any work) and a
   * connection that never opened are retried; a 5xx or a lost answer is left to the caller,
   * who reads before acting again.
   */
  repeatable: boolean;
}

/** Why the loop stopped although the last attempt was worth repeating. */
export type GaveUp = 'attempts' | 'deadline';

export type OutboundResult =
  | {
      kind: 'answer';
      status: number;
      headers: Headers;
      text: string;
      attempts: number;
      /** The last answer's `Retry-After`, as milliseconds from when it arrived. */
      retryAfterMs?: number;
      gaveUp?: GaveUp;
    }
  | {
      kind: 'no-answer';
      reason: string;
      /** False when the connection never opened, so nothing reached the server. */
      mayHaveArrived: boolean;
      attempts: number;
      gaveUp?: GaveUp;
    };

/** Connection errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Answers that say "later": throttling, timeouts on the server's side, and transient 5xx. */
const TRANSIENT_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Whether a status is worth another attempt, given whether the request may be repeated. */
export function isRetriable(status: number, repeatable: boolean): boolean {
  if (status === 429) return true;
  return repeatable && TRANSIENT_STATUSES.has(status);
}

/** Full jitter: a random delay below `min(maxDelayMs, baseDelayMs * 2^(retry-1))`. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(0, retry - 1), 30));
  return Math.floor(random() * ceiling);
}

/** An outbound client's options resolved once against its defaults. */
export class Outbound {
  readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly deps: OutboundDeps;
  private readonly callBudgetMs: number;

  constructor(opts: OutboundOptions, defaults: { retry: RetryPolicy; callBudgetMs: number }) {
    this.clock = opts.clock ?? systemClock;
    this.policy = { ...defaults.retry, ...opts.retry };
    this.callBudgetMs = opts.callBudgetMs ?? defaults.callBudgetMs;
    this.deps = {
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      clock: this.clock,
      random: opts.random ?? Math.random,
    };
  }

  /** The deadline the caller gave, or the call budget from now. */
  deadline(given?: number): number {
    return given ?? this.clock.now() + this.callBudgetMs;
  }

  send(request: OutboundRequest): Promise<OutboundResult> {
    return sendWithRetries(request, this.policy, this.deps);
  }
}

/** Sends the request, retrying within the policy and the deadline; never throws. */
export async function sendWithRetries(
  request: OutboundRequest,
  policy: RetryPolicy,
  deps: OutboundDeps,
): Promise<OutboundResult> {
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let result = await attempt(request, policy, deps, 1);
  for (let n = 1; n < maxAttempts && worthRepeating(result, request.repeatable); n++) {
    const wait =
      (result.kind === 'answer' ? result.retryAfterMs : undefined) ?? backoffMs(n, policy, deps.random);
    if (deps.clock.now() + wait >= request.deadline) return { ...result, gaveUp: 'deadline' };
    await deps.clock.sleep(wait);
    result = await attempt(request, policy, deps, n + 1);
  }
  return worthRepeating(result, request.repeatable) ? { ...result, gaveUp: 'attempts' } : result;
}

function worthRepeating(result: OutboundResult, repeatable: boolean): boolean {
  if (result.kind === 'answer') return isRetriable(result.status, repeatable);
  return !result.mayHaveArrived || repeatable;
}

async function attempt(
  request: OutboundRequest,
  policy: RetryPolicy,
  deps: OutboundDeps,
  attempts: number,
): Promise<OutboundResult> {
  const budget = Math.min(policy.attemptTimeoutMs, request.deadline - deps.clock.now());
  if (budget <= 0) return { kind: 'no-answer', reason: 'time budget spent', mayHaveArrived: false, attempts };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budget);
  const doFetch = deps.fetch ?? fetch;
  try {
    const res = await doFetch(request.url, {
      method: request.method,
      headers: typeof request.headers === 'function' ? request.headers(attempts) : request.headers,
      body: request.body ?? null,
      redirect: 'manual',
      signal: controller.signal,
    });
    let text = '';
    try {
      text = await res.text();
    } catch {
      // the status line arrived; a body cut short does not change what the status says
    }
    const retryAfter = retryAfterMs(res.headers.get('retry-after') ?? undefined, deps.clock.now());
    return {
      kind: 'answer',
      status: res.status,
      headers: res.headers,
      text,
      attempts,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    };
  } catch (err) {
    if (controller.signal.aborted) {
      return { kind: 'no-answer', reason: `no answer within ${budget} ms`, mayHaveArrived: true, attempts };
    }
    const code = errorCode(err);
    if (code && NOT_SENT_CODES.has(code)) {
      return { kind: 'no-answer', reason: `connection failed (${code})`, mayHaveArrived: false, attempts };
    }
    return {
      kind: 'no-answer',
      reason: `connection broken${code ? ` (${code})` : ''}`,
      mayHaveArrived: true,
      attempts,
    };
  } finally {
    clearTimeout(timer);
  }
}
