import * as z from 'zod/mini';
import { TICKET_ACTIONS } from '../events/ticket-event';
import { CLOSURE_REASONS, type CloseRequest, INCIDENT_UUID } from '../webhook/close-request';

/**
 * The retry message (SQS body), version 2: it names the incident and what the tickets want of
 * it, never a call to replay. Whoever receives it reads the incident record and ESET, and makes
 * the one call that closes the difference (functions/incidents/). The record is the truth; the
 * message is a wake-up.
 * - `wakeId`: the record's `wake.id` names the message due to continue the work; others are
 *   surplus once that one is scheduled.
 * - `sentAt` + `delaySeconds`: a message received much later than the queue could have held it
 *   went through the dead-letter queue (or the consumer was paused): it gets a new budget.
 * - `deadLettered`: the bridge parked it; an operator's redrive gives the work a new budget.
 * - `comment`: a comment that could not be posted travels with its dead letter, so a redrive can.
 */
const iso = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().check(z.maxLength(max));

export const RetryMessageSchema = z.object({
  v: z.literal(2),
  tenant: z.string().check(z.minLength(1), z.maxLength(64)),
  incidentUuid: z.string().check(z.regex(INCIDENT_UUID)),
  wakeId: z.string().check(z.minLength(1), z.maxLength(64)),
  sentAt: iso,
  delaySeconds: z.int().check(z.gte(0), z.lte(900)),
  correlationId: z.string().check(z.minLength(1), z.maxLength(256)),
  why: z.optional(z.enum(['pending', 'retry', 'unknown', 'time', 'busy', 'event', 'early', 'dead-letter'])),
  want: z.optional(
    z.object({ status: z.enum(['closed', 'open']), key: text(64), ticketId: z.optional(text(256)) }),
  ),
  deadLettered: z.optional(
    z.object({
      at: iso,
      reason: text(2000),
      action: z.enum(TICKET_ACTIONS),
      key: z.optional(text(64)),
      status: z.optional(z.int()),
    }),
  ),
  comment: z.optional(
    z.object({
      key: text(64),
      text: z.string().check(z.minLength(1), z.maxLength(10_000)),
      at: iso,
      ticketId: z.optional(text(256)),
      correlationId: text(256),
      /** An earlier try may have posted it: a redrive looks at ESET's comments first. */
      unsure: z.optional(z.boolean()),
    }),
  ),
});
export type RetryMessage = z.infer<typeof RetryMessageSchema>;

/**
 * Version 1 (a close to replay), still accepted so messages queued before an upgrade finish:
 * each becomes a close event on the incident record.
 */
const RetryMessageV1 = z.object({
  v: z.literal(1),
  request: z.object({
    incidentUuid: z.string().check(z.regex(INCIDENT_UUID)),
    closureReason: z.enum(CLOSURE_REASONS),
    comment: z.string().check(z.minLength(1), z.maxLength(10_000)),
    ticketId: z.optional(z.string().check(z.maxLength(256))),
  }),
  firstSeen: iso,
  correlationId: z.string().check(z.minLength(1), z.maxLength(256)),
  deadLettered: z.optional(z.object({ at: iso, reason: z.string() })),
});

export type ParsedMessage =
  | { ok: true; kind: 'v2'; message: RetryMessage }
  | { ok: true; kind: 'v1'; request: CloseRequest; correlationId: string; redriven: boolean }
  | { ok: false; problem: string };

/** Parses an SQS body; `problem` names what is wrong when it is not a retry message. */
export function parseRetryMessage(body: string): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  if (json && typeof json === 'object' && (json as { v?: unknown }).v === 1) {
    const old = z.safeParse(RetryMessageV1, json);
    if (old.success) {
      const { request, correlationId, deadLettered } = old.data;
      return {
        ok: true,
        kind: 'v1',
        request: {
          incidentUuid: request.incidentUuid.toLowerCase(),
          closureReason: request.closureReason,
          comment: request.comment,
          ...(request.ticketId ? { ticketId: request.ticketId } : {}),
        },
        correlationId,
        redriven: deadLettered !== undefined,
      };
    }
  }
  const result = z.safeParse(RetryMessageSchema, json);
  if (!result.success) {
    const problem = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.code}`)
      .join('; ');
    return { ok: false, problem: `not a retry message v2 (${problem})` };
  }
  return { ok: true, kind: 'v2', message: result.data };
}
