import { type EsetAnswer, retryAfterMs } from '../eset/answer';

/**
 * What one ESET answer means: the single source of truth for every call the bridge makes
 * (docs/architecture.md, "Outcomes"). Calls that change an incident (close, reopen,
 * comment) and their `response-id` re-sends are classified by `classifyChange`, reads and lists
 * by `classifyRead`.
 *
 * ESET documents little about repeats, so nothing here depends on what a repeated call answers:
 * - applied: ESET did it (2xx).
 * - pending: ESET cached the request (202 + response-id): re-send it, identical, with that id.
 * - gone: a re-send found no cached answer (404: retrieved or expired; 400: not taken as the same
 *   request): ESET may have applied the change, so read before acting again.
 * - unknown: ESET may have applied it: no answer (`settle`: ESET may still be working, so wait
 *   past its own window before reading), a 202 without a usable response-id (likewise), or a
 *   server error (5xx, 408, 425: read before acting again).
 * - retry: nothing was applied (429, never sent, a token refused twice, a redirect): try later.
 * - refused: 400, which for a close or reopen may mean "already in that state": read to tell.
 * - rejected: 403, 404 and other 4xx: ESET refuses for good.
 */
export type ChangeOutcome =
  | { kind: 'applied' }
  | { kind: 'pending'; responseId: string }
  | { kind: 'gone'; reason: string }
  | { kind: 'unknown'; reason: string; settle: boolean; retryAfterMs?: number }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; authFailure?: boolean }
  | { kind: 'refused'; status: number; reason: string }
  | { kind: 'rejected'; status: number; reason: string };

/** What a read (or a list) says: the JSON, ask again later, or refused for good. */
export type ReadOutcome =
  | { kind: 'ok'; json: unknown }
  | Extract<ChangeOutcome, { kind: 'retry' | 'rejected' }>;

/** Statuses that say "the server failed" without saying whether the change was applied. */
const SERVER_FAILED = new Set([408, 425]);

function statusReason(status: number, reason: string | undefined): string {
  return reason ? `ESET answered ${status}: ${reason}` : `ESET answered ${status}`;
}

type Response = Extract<EsetAnswer, { kind: 'response' }>;

/** Answers that mean "nothing was applied, ask again later", whatever the call. */
function notApplied(answer: Response, now: number): Extract<ChangeOutcome, { kind: 'retry' }> | undefined {
  const { status } = answer;
  if (status === 401)
    return { kind: 'retry', reason: 'ESET refused the token twice (401)', authFailure: true };
  if (status >= 300 && status < 400) {
    const to = answer.location ? ` to ${answer.location}` : '';
    return { kind: 'retry', reason: `ESET answered ${status} (a redirect${to}, not followed)` };
  }
  if (status === 429) {
    const wait = retryAfterMs(answer.retryAfter, now);
    return {
      kind: 'retry',
      reason: statusReason(status, answer.reason),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  }
  return undefined;
}

/**
 * Classifies the answer to a close, reopen or comment, or to its `response-id` re-send
 * (`resend`).
 */
export function classifyChange(answer: EsetAnswer, resend: boolean, now: number): ChangeOutcome {
  if (answer.kind === 'not-sent') {
    return { kind: 'retry', reason: answer.reason, ...(answer.authFailure ? { authFailure: true } : {}) };
  }
  if (answer.kind === 'lost') return { kind: 'unknown', reason: answer.reason, settle: true };
  const { status } = answer;
  const reason = statusReason(status, answer.reason);
  if (status === 202) {
    if (answer.responseId) return { kind: 'pending', responseId: answer.responseId };
    // Undocumented: ESET may be working on it, but the answer cannot be fetched. Treat as lost.
    const why = answer.responseIdUnusable ? 'a response-id too long to re-send' : 'no response-id';
    return { kind: 'unknown', reason: `ESET answered 202 with ${why}`, settle: true };
  }
  if (status >= 200 && status < 300) return { kind: 'applied' };
  const later = notApplied(answer, now);
  if (later) return later;
  if (status >= 500 || SERVER_FAILED.has(status)) {
    const wait = retryAfterMs(answer.retryAfter, now);
    return { kind: 'unknown', reason, settle: false, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  if (resend && (status === 404 || status === 400)) {
    return { kind: 'gone', reason: `${reason} on a response-id re-send` };
  }
  if (status === 400) return { kind: 'refused', status, reason };
  return { kind: 'rejected', status, reason };
}

/** Classifies the answer to a read (`GET /v2/incidents/{uuid}`, its comments, the list). */
export function classifyRead(answer: EsetAnswer, now: number): ReadOutcome {
  if (answer.kind === 'not-sent' || answer.kind === 'lost') {
    return {
      kind: 'retry',
      reason: answer.reason,
      ...(answer.kind === 'not-sent' && answer.authFailure ? { authFailure: true } : {}),
    };
  }
  const { status } = answer;
  if (status === 200) return { kind: 'ok', json: answer.json };
  const reason = statusReason(status, answer.reason);
  const later = notApplied(answer, now);
  if (later) return later;
  // A read has nothing to apply: a 202 (nothing to read yet) or a server error means "ask again".
  if (status === 202 || status >= 500 || SERVER_FAILED.has(status) || (status >= 200 && status < 300)) {
    const wait = retryAfterMs(answer.retryAfter, now);
    return { kind: 'retry', reason, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  return { kind: 'rejected', status, reason };
}

/** The label of an answer for logs, metrics and dead-letter attributes. */
export function answerLabel(answer: EsetAnswer): string {
  return answer.kind === 'response' ? String(answer.status) : answer.kind;
}
