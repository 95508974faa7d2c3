import * as z from 'zod/mini';
import {
  type CloseRequest,
  type ClosureReason,
  type FieldProblem,
  INCIDENT_UUID,
  MAX_COMMENT_LENGTH,
  toClosureReason,
} from './close-request';

/**
 * The close request body as the canonical route took it before ticket events
 * (functions/events/ticket-event.ts). No Lambda parses it any more: it lives apart from
 * close-request.ts, which both Lambdas load, so that its schema is not built at their cold start.
 */
export const CloseRequestBody = z.object({
  incidentUuid: z
    .string({ error: 'must be a string' })
    .check(z.regex(INCIDENT_UUID, { error: 'must be a UUID (8-4-4-4-12 hex digits)' })),
  closureReason: z._default(
    z.pipe(
      z.string({ error: 'must be a string' }),
      z.transform((value, ctx) => {
        const reason = toClosureReason(value);
        if (!reason) {
          ctx.issues.push({
            code: 'custom',
            input: value,
            message:
              'must be one of TRUE_POSITIVE, FALSE_POSITIVE, SUSPICIOUS, UNSPECIFIED (or the full ESET enum)',
          });
          return z.NEVER;
        }
        return reason;
      }),
    ),
    'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  ),
  comment: z.string({ error: 'must be a string' }).check(
    z.refine((s) => s.trim().length > 0, { error: 'must not be empty' }),
    z.maxLength(MAX_COMMENT_LENGTH, { error: `must be at most ${MAX_COMMENT_LENGTH} characters` }),
  ),
  ticketId: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.maxLength(256, { error: 'must be at most 256 characters' })),
  ),
});

/** Validates a parsed JSON value; returns the close request or the failing field paths. */
export function parseCloseRequest(
  value: unknown,
): { ok: true; request: CloseRequest } | { ok: false; problems: FieldProblem[] } {
  const result = z.safeParse(CloseRequestBody, value);
  if (result.success) {
    const { incidentUuid, closureReason, comment, ticketId } = result.data;
    return {
      ok: true,
      request: {
        incidentUuid,
        closureReason: closureReason as ClosureReason,
        comment,
        ...(ticketId ? { ticketId } : {}),
      },
    };
  }
  return {
    ok: false,
    problems: result.error.issues.map((i) => {
      const path = i.path.length > 0 ? i.path.map(String).join('.') : '(body)';
      if (i.code !== 'invalid_type') return { path, message: i.message };
      if (i.path.length === 0) return { path, message: 'must be a JSON object' };
      const present = valueAt(value, i.path) !== undefined;
      return { path, message: present ? `must be a ${i.expected}` : 'is required' };
    }),
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
