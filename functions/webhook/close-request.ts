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
