import * as z from 'zod/mini';
import {
  type ClosureReason,
  type FieldProblem,
  INCIDENT_UUID,
  MAX_COMMENT_LENGTH,
  toClosureReason,
} from '../webhook/close-request';

/**
 * What a ticket asks of its ESET incident: the bridge's one input, whatever the sender. The
 * canonical route takes it as the body; every sender adapter maps its system's payload to it.
 * - `close` (the default): close with `closureReason` and `comment` as ESET's final comment.
 * - `reopen`: reopen; `comment`, when given, becomes ESET's reopen comment.
 * - `comment`: add `comment` to the incident.
 * `occurredAt` is when the event happened in the ticketing system: the latest event wins.
 */
export const TICKET_ACTIONS = ['close', 'reopen', 'comment'] as const;

/**
 * The bridge writes this into every comment it posts into a ticket. A ticket comment that carries
 * it is the bridge's own, echoed back by the ticketing system: it never becomes a `comment` event.
 */
export const BRIDGE_COMMENT_MARKER = '[eset-close-bridge]';
export type TicketAction = (typeof TICKET_ACTIONS)[number];

export interface TicketEvent {
  action: TicketAction;
  incidentUuid: string;
  /** `close` only; ESET's enum (UNSPECIFIED when the sender gave none). */
  closureReason?: ClosureReason;
  /** Required for `close` and `comment`, optional for `reopen`. */
  comment?: string;
  ticketId?: string;
  /** RFC 3339, normalised to UTC (`toISOString`). */
  occurredAt?: string;
  /**
   * The sender's own id of this ticket event (a Jira comment id, a ServiceNow sys_id...), set by
   * adapters: two events with the same text are still two events when their ids differ.
   */
  eventId?: string;
  /**
   * Who made the change in the ticketing system (a Jira accountId, a Zendesk user id, a ServiceNow
   * user name...): routes can ignore their own integration account's changes (`ignoreActors`).
   */
  actor?: string;
}

const reason = z.pipe(
  z.string({ error: 'must be a string' }),
  z.transform((value, ctx) => {
    const r = toClosureReason(value);
    if (!r) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'must be one of TRUE_POSITIVE, FALSE_POSITIVE, SUSPICIOUS, UNSPECIFIED (or the full ESET enum)',
      });
      return z.NEVER;
    }
    return r;
  }),
);

const text = z.string({ error: 'must be a string' }).check(
  z.refine((s) => s.trim().length > 0, { error: 'must not be empty' }),
  z.maxLength(MAX_COMMENT_LENGTH, { error: `must be at most ${MAX_COMMENT_LENGTH} characters` }),
);

/** The canonical webhook body (docs/senders/canonical.md). */
export const TicketEventBody = z.object({
  action: z._default(
    z.enum(TICKET_ACTIONS, { error: `must be one of ${TICKET_ACTIONS.join(', ')}` }),
    'close',
  ),
  incidentUuid: z
    .string({ error: 'must be a string' })
    .check(z.regex(INCIDENT_UUID, { error: 'must be a UUID (8-4-4-4-12 hex digits)' })),
  closureReason: z.optional(reason),
  comment: z.optional(text),
  ticketId: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.maxLength(256, { error: 'must be at most 256 characters' })),
  ),
  occurredAt: z.optional(
    z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time, e.g. 2026-12-01T12:00:00Z' }),
  ),
  actor: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.maxLength(256, { error: 'must be at most 256 characters' })),
  ),
});

/**
 * Validates a parsed JSON value as a ticket event; returns it or every failing field path. The
 * rules that depend on the action: `comment` is required for `close` and `comment`;
 * `closureReason` belongs to `close` alone.
 */
export function parseTicketEvent(
  value: unknown,
): { ok: true; event: TicketEvent } | { ok: false; problems: FieldProblem[] } {
  const result = z.safeParse(TicketEventBody, value);
  const raw =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  const problems: FieldProblem[] = [];
  if (!result.success) {
    for (const i of result.error.issues) {
      const path = i.path.length > 0 ? i.path.map(String).join('.') : '(body)';
      if (i.code !== 'invalid_type') problems.push({ path, message: i.message });
      else if (i.path.length === 0) problems.push({ path, message: 'must be a JSON object' });
      else
        problems.push({
          path,
          message: valueAt(value, i.path) !== undefined ? `must be a ${i.expected}` : 'is required',
        });
    }
  }
  // The rules that depend on the action, named together with every other problem.
  const action = result.success ? result.data.action : typeof raw?.action === 'string' ? raw.action : 'close';
  const declared = raw !== undefined && Object.hasOwn(raw, 'action');
  if ((action === 'close' || action === 'comment') && raw !== undefined && raw.comment === undefined) {
    // A body without `action` is the close request it always was, and is answered as before.
    problems.push({
      path: 'comment',
      message: declared ? `is required for action ${action}` : 'is required',
    });
  }
  if (
    raw?.closureReason !== undefined &&
    action !== 'close' &&
    (TICKET_ACTIONS as readonly string[]).includes(action)
  ) {
    problems.push({ path: 'closureReason', message: 'is only allowed with action close' });
  }
  if (!result.success || problems.length > 0) return { ok: false, problems };
  const { incidentUuid, closureReason, comment, ticketId, occurredAt, actor } = result.data;
  return {
    ok: true,
    event: {
      action: result.data.action,
      incidentUuid: incidentUuid.toLowerCase(),
      ...(action === 'close'
        ? {
            closureReason:
              (closureReason as ClosureReason | undefined) ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
          }
        : {}),
      ...(comment !== undefined ? { comment } : {}),
      ...(ticketId ? { ticketId } : {}),
      ...(occurredAt ? { occurredAt: new Date(occurredAt).toISOString() } : {}),
      ...(actor?.trim() ? { actor: actor.trim() } : {}),
    },
  };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
