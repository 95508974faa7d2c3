import type { EsetAnswer } from '../eset/answer';
import { retryAfterMs } from '../eset/client';

/**
 * The outcome of one ESET call: the single source of truth for both Lambdas
 * (README.md, "Outcomes and HTTP answers").
 * - closed: the incident is closed (by this close, or it already was).
 * - pending: ESET cached the query (202); re-send it with `response-id`.
 * - retry: nothing was done at ESET; send again after a backoff.
 * - rejected: ESET refused for good; no retry helps.
 * - unknown: ESET may or may not have applied a close; read the incident before closing again,
 *   after `settle` (ESET may still be working) or at once.
 */
export type Outcome =
  | { kind: 'closed'; how: 'closed' | 'already-closed' | 'retrieved' }
  | { kind: 'pending'; responseId: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; authFailure?: boolean }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'unknown'; reason: string; settle: boolean };

/** What a read of the incident says. */
export type ReadOutcome =
  | { kind: 'state'; closed: boolean; status: string }
  | Extract<Outcome, { kind: 'retry' | 'rejected' }>;

type Call = 'close' | 'resend' | 'read';

/** Statuses whose meaning does not depend on the call. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

function statusReason(status: number, reason: string | undefined): string {
  return reason ? `ESET answered ${status}: ${reason}` : `ESET answered ${status}`;
}

type Response = Extract<EsetAnswer, { kind: 'response' }>;

/**
 * The statuses that mean "nothing was done, ask again later", whatever the call: a token ESET
 * refused even after a refresh, throttling, and server errors (with Retry-After when given);
 * for a read, also an (undocumented) 202.
 */
function retryLater(
  answer: Response,
  reason: string,
  now: number,
  accepted202 = false,
): Extract<Outcome, { kind: 'retry' }> | undefined {
  if (answer.status === 401) {
    return { kind: 'retry', reason: 'ESET refused the token twice (401)', authFailure: true };
  }
  const again =
    RETRYABLE.has(answer.status) || answer.status >= 500 || (accepted202 && answer.status === 202);
  if (!again) return undefined;
  const wait = retryAfterMs(answer.retryAfter, now);
  return { kind: 'retry', reason, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
}

/** Classifies the answer to a close (or its `response-id` re-send). */
export function classifyClose(answer: EsetAnswer, call: Exclude<Call, 'read'>, now: number): Outcome {
  if (answer.kind === 'not-sent') {
    return { kind: 'retry', reason: answer.reason, ...(answer.authFailure ? { authFailure: true } : {}) };
  }
  if (answer.kind === 'lost') return { kind: 'unknown', reason: answer.reason, settle: true };

  const { status } = answer;
  const reason = statusReason(status, answer.reason);
  if (status === 202) {
    // A 202 without response-id is undocumented: ESET may be working on it, so treat it as a lost answer.
    return answer.responseId
      ? { kind: 'pending', responseId: answer.responseId }
      : { kind: 'unknown', reason: 'ESET answered 202 without response-id', settle: true };
  }
  if (status >= 200 && status < 300)
    return { kind: 'closed', how: call === 'resend' ? 'retrieved' : 'closed' };
  const later = retryLater(answer, reason, now);
  if (later) return later;
  if (call === 'resend' && (status === 404 || status === 400)) {
    // 404: the cached answer is gone (retrieved or expired); 400: the re-send was not taken as identical.
    // Either way the close may have been applied: read before closing again.
    return { kind: 'unknown', reason: `${reason} on a response-id re-send`, settle: false };
  }
  if (status === 400) return { kind: 'unknown', reason, settle: false }; // maybe "already closed": read to tell
  return { kind: 'rejected', status, reason };
}

/** Classifies the answer to `GET /v2/incidents/{uuid}`. */
export function classifyRead(answer: EsetAnswer, now: number): ReadOutcome {
  if (answer.kind === 'not-sent' || answer.kind === 'lost') {
    return {
      kind: 'retry',
      reason: answer.reason,
      ...(answer.kind === 'not-sent' && answer.authFailure ? { authFailure: true } : {}),
    };
  }
  const { status } = answer;
  if (status === 200) {
    const incidentStatus = incidentStatusOf(answer.json);
    if (!incidentStatus)
      return { kind: 'retry', reason: 'ESET answered 200 to a read without an incident status' };
    return { kind: 'state', closed: incidentStatus === 'INCIDENT_STATUS_CLOSED', status: incidentStatus };
  }
  const reason = statusReason(status, answer.reason);
  // A 202 to a read is undocumented: nothing to read yet, so ask again.
  const later = retryLater(answer, reason, now, true);
  if (later) return later;
  return { kind: 'rejected', status, reason };
}

function incidentStatusOf(json: unknown): string | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const incident = (json as { incident?: unknown }).incident;
  if (!incident || typeof incident !== 'object') return undefined;
  const status = (incident as { status?: unknown }).status;
  return typeof status === 'string' ? status : undefined;
}

/** The label of an answer for logs, metrics and dead-letter attributes. */
export function answerLabel(answer: EsetAnswer): string {
  return answer.kind === 'response' ? String(answer.status) : answer.kind;
}
