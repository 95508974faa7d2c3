/**
 * The sandbox's incident model, shaped after `v2Incident` and `v2IncidentComment` in ESET's
 * incident-management OpenAPI file: records, their JSON views, the request-body checks and the
 * state changes of close, reopen and comments. Kept apart from the HTTP server so the rules an
 * incident follows can be read in one place; the server decides who calls them and when.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SandboxInputError } from './faults';

export const INCIDENT_STATUSES = [
  'INCIDENT_STATUS_UNSPECIFIED',
  'INCIDENT_STATUS_OPEN',
  'INCIDENT_STATUS_IN_PROGRESS',
  'INCIDENT_STATUS_CLOSED',
  'INCIDENT_STATUS_WAITING_FOR_INPUT',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const RESOLVE_REASONS = [
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
] as const;
export type ResolveReason = (typeof RESOLVE_REASONS)[number];

/** `v2IncidentSeverityLevel`, in the spec's order, which is also the order `orderBy=severity` sorts by. */
export const SEVERITY_LEVELS = [
  'INCIDENT_SEVERITY_LEVEL_UNSPECIFIED',
  'INCIDENT_SEVERITY_LEVEL_LOW',
  'INCIDENT_SEVERITY_LEVEL_MEDIUM',
  'INCIDENT_SEVERITY_LEVEL_HIGH',
] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

/** Optional attributes of a seeded incident (`addIncident`'s third argument, `/_sandbox/incidents`). */
export interface IncidentOptions {
  severity?: SeverityLevel;
  displayName?: string;
  description?: string;
  /** RFC 3339; defaults to the sandbox clock's now. The update time starts equal to it. */
  createTime?: string;
}

export interface CommentRecord {
  uuid: string;
  incidentUuid: string;
  text: string;
  authorUuid: string;
  createTime: number;
  updateTime: number;
  isFinalComment: boolean;
}

export interface IncidentRecord {
  uuid: string;
  displayName: string;
  description: string;
  status: IncidentStatus;
  severity: SeverityLevel;
  resolveReason: ResolveReason;
  assigneeUuid: string;
  tags: string[];
  createTime: number;
  updateTime: number;
  /** Oldest first, as ESET lists them ("Comments are ordered by create_time"). */
  comments: CommentRecord[];
  closesApplied: number;
  reopensApplied: number;
  commentsCreated: number;
}

/** What a refused request answers: an HTTP status and the google.rpc.Status code and message. */
export interface Problem {
  status: number;
  code: number;
  message: string;
}

/** google.rpc.Code values the sandbox answers with. */
export const RPC = {
  invalidArgument: 3,
  notFound: 5,
  permissionDenied: 7,
  failedPrecondition: 9,
  unimplemented: 12,
} as const;

export function problem(status: number, code: number, message: string): Problem {
  return { status, code, message };
}

export function isProblem(value: unknown): value is Problem {
  return isRecord(value) && typeof value.status === 'number' && typeof value.code === 'number';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A stable user uuid for an API user, derived from a hash of the username: the same user keeps
 * its uuid across sandbox restarts, so tests can tell the bridge's comments from people's by
 * `authorUuid`, as the bridge has to at ESET.
 */
export function userUuidFor(username: string): string {
  const hash = createHash('sha256').update(`eset-sandbox user\n${username}`).digest().subarray(0, 16);
  // RFC 9562 version 8 (custom) and variant bits, so the value reads as a well-formed UUID.
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x80, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Parses an RFC 3339 timestamp into nanoseconds since the epoch (a bigint, so the nanosecond
 * digits ESET's protobuf timestamps may carry compare exactly). Undefined when it is not one.
 */
export function parseTimestampNanos(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const [, local = '', fraction = '', zone = ''] = match;
  const seconds = local.toUpperCase();
  const ms = Date.parse(`${seconds}${zone.toUpperCase()}`);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a real timestamp parser refuses it.
  const check = new Date(Date.parse(`${seconds}Z`)).toISOString().slice(0, 19);
  if (check !== seconds) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Builds a fresh incident record, validating the options as untrusted input. */
export function newIncidentRecord(
  uuid: string,
  status: IncidentStatus,
  opts: IncidentOptions,
  now: number,
): IncidentRecord {
  if (typeof uuid !== 'string' || uuid.length === 0) throw new SandboxInputError('uuid must be a string');
  if (!INCIDENT_STATUSES.includes(status)) throw new SandboxInputError(`unknown status ${String(status)}`);
  const input: unknown = opts;
  if (!isRecord(input)) throw new SandboxInputError('incident options must be an object');
  const severity = input.severity ?? 'INCIDENT_SEVERITY_LEVEL_MEDIUM';
  if (typeof severity !== 'string' || !SEVERITY_LEVELS.includes(severity as SeverityLevel)) {
    throw new SandboxInputError(`severity must be one of ${SEVERITY_LEVELS.join(', ')}`);
  }
  const text = (key: 'displayName' | 'description' | 'createTime'): string | undefined => {
    const value = input[key];
    if (value !== undefined && typeof value !== 'string')
      throw new SandboxInputError(`${key} must be a string`);
    return value;
  };
  const displayName = text('displayName');
  const description = text('description');
  const createText = text('createTime');
  let createTime = now;
  if (createText !== undefined) {
    const nanos = parseTimestampNanos(createText);
    if (nanos === undefined) throw new SandboxInputError('createTime must be an RFC 3339 timestamp');
    createTime = Number(nanos / 1_000_000n);
  }
  return {
    uuid,
    displayName: displayName ?? `Sandbox incident ${uuid.slice(0, 8)}`,
    description: description ?? '',
    status,
    severity: severity as SeverityLevel,
    resolveReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
    assigneeUuid: '',
    tags: [],
    createTime,
    updateTime: createTime,
    comments: [],
    closesApplied: 0,
    reopensApplied: 0,
    commentsCreated: 0,
  };
}

/** `v2IncidentComment` as ESET answers it. */
export function commentView(comment: CommentRecord): Record<string, unknown> {
  return {
    uuid: comment.uuid,
    incidentUuid: comment.incidentUuid,
    text: comment.text,
    authorUuid: comment.authorUuid,
    createTime: iso(comment.createTime),
    updateTime: iso(comment.updateTime),
    isFinalComment: comment.isFinalComment,
  };
}

/**
 * `v2Incident` as ESET answers it. The list leaves out `detectionUuids` and `deviceUuids`, as
 * ESET documents; the sandbox has no detections or devices, so a single read shows them empty.
 */
export function incidentView(incident: IncidentRecord, forList = false): Record<string, unknown> {
  const view: Record<string, unknown> = {
    uuid: incident.uuid,
    displayName: incident.displayName,
    description: incident.description,
    status: incident.status,
    severity: incident.severity,
    resolveReason: incident.resolveReason,
    assigneeUuid: incident.assigneeUuid,
    tags: [...incident.tags],
    createTime: iso(incident.createTime),
    updateTime: iso(incident.updateTime),
  };
  if (!forList) {
    view.detectionUuids = [];
    view.deviceUuids = [];
  }
  return view;
}

/** The text of the latest comment still marked final, which is what a close left behind. */
export function currentFinalComment(incident: IncidentRecord): string | undefined {
  return incident.comments.findLast((comment) => comment.isFinalComment)?.text;
}

// ---------------------------------------------------------------------------------------------
// Request bodies. protojson would accept snake_case names and silently drop unknown fields;
// the sandbox is harsher and answers 400 to both, so a misspelt field fails here instead of being
// ignored at ESET. Read-only fields of a comment (the spec marks authorUuid, createTime,
// updateTime and isFinalComment readOnly) are refused too: a client has no business sending them.

const COMMENT_READ_ONLY = ['authorUuid', 'createTime', 'updateTime', 'isFinalComment'] as const;
const COMMENT_WRITABLE = ['text', 'uuid', 'incidentUuid'] as const;

function invalid(message: string): Problem {
  return problem(400, RPC.invalidArgument, message);
}

function parseJsonObject(body: Buffer): Record<string, unknown> | Problem {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return invalid('invalid JSON in request body');
  }
  return isRecord(parsed) ? parsed : invalid('request body must be a JSON object');
}

function unknownField(value: Record<string, unknown>, allowed: readonly string[], label: string) {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? undefined : invalid(`unknown field ${JSON.stringify(extra)} in ${label}`);
}

/** Checks a `v2IncidentComment` sent by a client; answers its text (undefined when absent). */
function parseCommentInput(
  value: unknown,
  label: string,
  incidentUuid: string,
): { text: string | undefined } | Problem {
  if (value === undefined || value === null) return { text: undefined };
  if (!isRecord(value)) return invalid(`${label} must be an object`);
  const readOnly = COMMENT_READ_ONLY.find((key) => key in value);
  if (readOnly !== undefined) return invalid(`${label}.${readOnly} is read-only`);
  const unknown = unknownField(value, COMMENT_WRITABLE, label);
  if (unknown !== undefined) return unknown;
  if (value.uuid !== undefined && value.uuid !== null && typeof value.uuid !== 'string') {
    return invalid(`${label}.uuid must be a string`);
  }
  if (value.incidentUuid !== undefined && value.incidentUuid !== null && value.incidentUuid !== '') {
    if (value.incidentUuid !== incidentUuid) {
      return invalid(`${label}.incidentUuid does not match the incident in the path`);
    }
  }
  const text = value.text ?? undefined;
  if (text !== undefined && typeof text !== 'string') return invalid(`${label}.text must be a string`);
  return { text };
}

export interface CloseInput {
  reason: ResolveReason;
  text: string | undefined;
}

/** `IncidentsCloseIncidentBody`: `{closureReason?, finalComment?: {text}}`; an empty body means `{}`. */
export function parseCloseBody(body: Buffer, incidentUuid: string): CloseInput | Problem {
  const parsed = parseJsonObject(body);
  if (isProblem(parsed)) return parsed;
  const unknown = unknownField(parsed, ['closureReason', 'finalComment'], 'request body');
  if (unknown !== undefined) return unknown;
  const reason = parsed.closureReason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED';
  if (typeof reason !== 'string' || !RESOLVE_REASONS.includes(reason as ResolveReason)) {
    return invalid(`invalid value for enum field closureReason: ${JSON.stringify(reason)}`);
  }
  const comment = parseCommentInput(parsed.finalComment, 'finalComment', incidentUuid);
  if (isProblem(comment)) return comment;
  return { reason: reason as ResolveReason, text: comment.text };
}

/** `IncidentsReopenIncidentBody`: `{comment?: {text}}`; an empty body means `{}`. */
export function parseReopenBody(body: Buffer, incidentUuid: string): { text: string | undefined } | Problem {
  const parsed = parseJsonObject(body);
  if (isProblem(parsed)) return parsed;
  const unknown = unknownField(parsed, ['comment'], 'request body');
  if (unknown !== undefined) return unknown;
  return parseCommentInput(parsed.comment, 'comment', incidentUuid);
}

/** `IncidentCommentsCreateIncidentCommentBody`: `{comment: {text}}` with a non-empty text. */
export function parseCreateCommentBody(body: Buffer, incidentUuid: string): { text: string } | Problem {
  const parsed = parseJsonObject(body);
  if (isProblem(parsed)) return parsed;
  const unknown = unknownField(parsed, ['comment'], 'request body');
  if (unknown !== undefined) return unknown;
  const comment = parseCommentInput(parsed.comment, 'comment', incidentUuid);
  if (isProblem(comment)) return comment;
  if (comment.text === undefined || comment.text === '') return invalid('comment.text is required');
  return { text: comment.text };
}

/** `IncidentCommentsUpdateIncidentCommentTextBody`: `{text}` with a non-empty text. */
export function parseUpdateTextBody(body: Buffer): { text: string } | Problem {
  const parsed = parseJsonObject(body);
  if (isProblem(parsed)) return parsed;
  const unknown = unknownField(parsed, ['text'], 'request body');
  if (unknown !== undefined) return unknown;
  const text = parsed.text ?? undefined;
  if (text !== undefined && typeof text !== 'string') return invalid('text must be a string');
  if (text === undefined || text === '') return invalid('text is required');
  return { text };
}

// ---------------------------------------------------------------------------------------------
// State changes. `repeat` is the sandbox's repeat-applies mode: ESET does not document what a
// repeated close or reopen answers, so by default the sandbox refuses it (400, code 9) and in that
// mode applies it again, the two answers a client has to survive.

export interface Actor {
  authorUuid: string;
  now: number;
}

export function addComment(
  incident: IncidentRecord,
  text: string,
  actor: Actor,
  isFinalComment = false,
): CommentRecord {
  const comment: CommentRecord = {
    uuid: randomUUID(),
    incidentUuid: incident.uuid,
    text,
    authorUuid: actor.authorUuid,
    createTime: actor.now,
    updateTime: actor.now,
    isFinalComment,
  };
  incident.comments.push(comment);
  incident.updateTime = actor.now;
  return comment;
}

/** Closes the incident; a non-empty final comment text is kept as a comment marked final. */
export function applyClose(
  incident: IncidentRecord,
  input: CloseInput,
  actor: Actor,
  repeat: boolean,
): Problem | undefined {
  if (incident.status === 'INCIDENT_STATUS_CLOSED' && !repeat) {
    return problem(400, RPC.failedPrecondition, 'incident is already closed');
  }
  incident.status = 'INCIDENT_STATUS_CLOSED';
  incident.resolveReason = input.reason;
  if (input.text !== undefined && input.text !== '') addComment(incident, input.text, actor, true);
  incident.updateTime = actor.now;
  return undefined;
}

/**
 * Reopens the incident, as ESET's spec describes `:reopen`: only when it is not open; the status
 * becomes open, the resolve reason unspecified, the final comment a normal one, the assignee stays.
 */
export function applyReopen(
  incident: IncidentRecord,
  text: string | undefined,
  actor: Actor,
  repeat: boolean,
): Problem | undefined {
  if (incident.status === 'INCIDENT_STATUS_OPEN' && !repeat) {
    return problem(400, RPC.failedPrecondition, 'incident is not closed');
  }
  incident.status = 'INCIDENT_STATUS_OPEN';
  incident.resolveReason = 'INCIDENT_RESOLVE_REASON_UNSPECIFIED';
  for (const comment of incident.comments) {
    if (!comment.isFinalComment) continue;
    // A change the service makes to a comment refreshes its update time too (AIP-148).
    comment.isFinalComment = false;
    comment.updateTime = actor.now;
  }
  if (text !== undefined && text !== '') addComment(incident, text, actor);
  incident.updateTime = actor.now;
  return undefined;
}
