import * as z from 'zod/mini';
import { CLOSURE_REASONS, type CloseRequest, INCIDENT_UUID } from '../webhook/close-request';

/**
 * The retry message (SQS body), version 1. It carries everything needed to continue the work
 * in another process: the close request, where the work stands (`phase`), and the history
 * that a dead-letter must explain.
 * - close: send the close (again).
 * - resend: re-send the identical close with `responseId` (ESET answered 202 at `pendingSince`).
 * - verify: read the incident (not before `notBefore`) and close only if it is not closed.
 * `budgetStart` (default `firstSeen`) starts the retry budget; `deadLettered` marks a body the
 * bridge parked in the DLQ, so that an operator's redrive is recognised and gets a new budget.
 */
export const RetryMessageSchema = z.object({
  v: z.literal(1),
  request: z.object({
    incidentUuid: z.string().check(z.regex(INCIDENT_UUID)),
    closureReason: z.enum(CLOSURE_REASONS),
    comment: z.string().check(z.minLength(1), z.maxLength(10_000)),
    ticketId: z.optional(z.string().check(z.maxLength(256))),
  }),
  phase: z.enum(['close', 'resend', 'verify']),
  responseId: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  pendingSince: z.optional(z.iso.datetime()),
  resends: z.optional(z.int().check(z.nonnegative())),
  notBefore: z.optional(z.iso.datetime()),
  attempt: z.int().check(z.positive()),
  firstSeen: z.iso.datetime(),
  lastStatus: z.optional(z.string().check(z.maxLength(32))),
  lastReason: z.optional(z.string().check(z.maxLength(1000))),
  lastRequestId: z.optional(z.string().check(z.maxLength(256))),
  correlationId: z.string().check(z.minLength(1), z.maxLength(256)),
  budgetStart: z.optional(z.iso.datetime()),
  redrives: z.optional(z.int().check(z.nonnegative())),
  deadLettered: z.optional(z.object({ at: z.iso.datetime(), reason: z.string().check(z.maxLength(2000)) })),
});

export type RetryMessage = Omit<z.infer<typeof RetryMessageSchema>, 'request'> & { request: CloseRequest };

/** Parses an SQS body; `problem` names what is wrong when it is not a valid retry message. */
export function parseRetryMessage(
  body: string,
): { ok: true; message: RetryMessage } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  const result = z.safeParse(RetryMessageSchema, json);
  if (!result.success) {
    const problem = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.code}`)
      .join('; ');
    return { ok: false, problem: `not a retry message v1 (${problem})` };
  }
  const m = result.data;
  if (m.phase === 'resend' && (!m.responseId || !m.pendingSince)) {
    return { ok: false, problem: 'not a retry message v1 (resend without responseId/pendingSince)' };
  }
  return { ok: true, message: m as RetryMessage };
}

/**
 * The work moved to another phase: the fields that only describe the phase it leaves (a 202's
 * `responseId`, `pendingSince`, `resends`; a verify's `notBefore`) are dropped, `next` is added.
 */
export function atPhase(
  work: RetryMessage,
  phase: RetryMessage['phase'],
  next: Partial<Pick<RetryMessage, 'responseId' | 'pendingSince' | 'resends' | 'notBefore'>> = {},
): RetryMessage {
  const { responseId: _r, pendingSince: _p, resends: _s, notBefore: _n, ...rest } = work;
  return { ...rest, phase, ...next };
}
