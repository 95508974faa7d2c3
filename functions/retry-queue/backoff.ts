/**
 * Delay before the next attempt: full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"), `random() * min(max, base * 2^(attempt-1))`; a `Retry-After` from ESET wins when
 * given. Capped at SQS's 900 s maximum DelaySeconds.
 */
export const SQS_MAX_DELAY_SECONDS = 900;

export function backoffSeconds(
  attempt: number,
  policy: { baseSeconds: number; maxDelaySeconds: number },
  random: () => number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(policy.maxDelaySeconds, SQS_MAX_DELAY_SECONDS);
  if (retryAfterMs !== undefined) return Math.min(cap, Math.ceil(retryAfterMs / 1000));
  const ceiling = Math.min(cap, policy.baseSeconds * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.floor(random() * (ceiling + 1));
}

/** ESET keeps a 202's cached answer for 10 minutes; re-sends stop a margin before that. */
export const RESPONSE_CACHE_WINDOW_MS = 10 * 60 * 1000;
const RESEND_MARGIN_MS = 30_000;

/**
 * Delay before the next `response-id` re-send: start small, grow x1.5, at most 60 s; undefined
 * when the next re-send would land outside ESET's cache window.
 */
export function resendDelaySeconds(
  resends: number,
  firstDelaySeconds: number,
  pendingSinceMs: number,
  now: number,
): number | undefined {
  const delay = Math.min(60, Math.round(firstDelaySeconds * 1.5 ** resends));
  if (now + delay * 1000 > pendingSinceMs + RESPONSE_CACHE_WINDOW_MS - RESEND_MARGIN_MS) return undefined;
  return delay;
}
