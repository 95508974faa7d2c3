import * as z from 'zod/mini';

/** ESET's closure reasons (v2IncidentResolveReason). */
export const CLOSURE_REASONS = [
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
] as const;
export type ClosureReason = (typeof CLOSURE_REASONS)[number];

const PREFIX = 'INCIDENT_RESOLVE_REASON_';

/**
 * Maps `false-positive`, `FALSE_POSITIVE`, `incident-resolve-reason-false-positive`, ... to ESET's
 * enum; undefined when the text is no known reason.
 */
export function toClosureReason(text: string): ClosureReason | undefined {
  const norm = text.trim().toUpperCase().replace(/-/g, '_');
  const full = norm.startsWith(PREFIX) ? norm : `${PREFIX}${norm}`;
  return (CLOSURE_REASONS as readonly string[]).includes(full) ? (full as ClosureReason) : undefined;
}

/** An incident id shaped like a UUID: the only form that may enter an ESET URL path. */
export const INCIDENT_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const MAX_COMMENT_LENGTH = 10_000;

/** The close-only body from before ticket events; today's canonical body is in docs/senders/canonical.md. */
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

/** What the bridge asks ESET to do; also the core of every retry message. */
export interface CloseRequest {
  incidentUuid: string;
  closureReason: ClosureReason;
  comment: string;
  ticketId?: string;
}

export interface FieldProblem {
  path: string;
  message: string;
}

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
