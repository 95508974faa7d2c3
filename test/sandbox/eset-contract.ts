/**
 * ESET's published contract for the incident calls the bridge makes, transcribed by hand from
 * ESET Connect's incident-management OpenAPI file (v2). Each schema names the spec component it
 * transcribes. The spec marks no property as required, so neither do these; `.strict()` is used
 * wherever the spec lists every property, so an extra or misspelt field fails.
 *
 * The response schemas check the sandbox's answers (eset-contract.test.ts); the request-body
 * schemas are for anything that builds requests to ESET, the bridge's client included. In the
 * request schemas the fields the spec marks `readOnly` are declared as never to be sent.
 */
import * as z from 'zod';

/** `v2IncidentStatus`. */
export const IncidentStatus = z.enum([
  'INCIDENT_STATUS_UNSPECIFIED',
  'INCIDENT_STATUS_OPEN',
  'INCIDENT_STATUS_IN_PROGRESS',
  'INCIDENT_STATUS_CLOSED',
  'INCIDENT_STATUS_WAITING_FOR_INPUT',
]);

/** `v2IncidentSeverityLevel`. */
export const IncidentSeverityLevel = z.enum([
  'INCIDENT_SEVERITY_LEVEL_UNSPECIFIED',
  'INCIDENT_SEVERITY_LEVEL_LOW',
  'INCIDENT_SEVERITY_LEVEL_MEDIUM',
  'INCIDENT_SEVERITY_LEVEL_HIGH',
]);

/** `v2IncidentResolveReason`. */
export const IncidentResolveReason = z.enum([
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
]);

/** `format: date-time` (RFC 3339, any offset). */
const DateTime = z.iso.datetime({ offset: true });

/**
 * `type: integer, format: int64`. The spec says integer, but protobuf's JSON mapping writes
 * 64-bit integers as strings, so both are accepted.
 */
const Int64 = z.union([z.int(), z.string().regex(/^-?\d+$/)]);

/** `type: integer, format: int32`. */
const Int32 = z.int().min(-2_147_483_648).max(2_147_483_647);

/** `v2IncidentMetrics`. */
export const IncidentMetrics = z
  .object({
    deviceCount: Int64.optional(),
    executableCount: Int64.optional(),
    processCount: Int64.optional(),
  })
  .strict();

/** `v2Incident`: every property the spec lists (readOnly ones included, as answers carry them). */
export const Incident = z
  .object({
    assigneeUuid: z.string().optional(),
    createTime: DateTime.optional(),
    description: z.string().optional(),
    detectionUuids: z.array(z.string()).optional(),
    deviceUuids: z.array(z.string()).optional(),
    displayName: z.string().optional(),
    metrics: IncidentMetrics.optional(),
    resolveReason: IncidentResolveReason.optional(),
    responseDuration: z.string().optional(),
    severity: IncidentSeverityLevel.optional(),
    status: IncidentStatus.optional(),
    tags: z.array(z.string()).optional(),
    triageDuration: z.string().optional(),
    updateTime: DateTime.optional(),
    uuid: z.string().optional(),
  })
  .strict();

/** `v2IncidentComment`, as ESET answers it. */
export const IncidentComment = z
  .object({
    authorUuid: z.string().optional(),
    createTime: DateTime.optional(),
    incidentUuid: z.string().optional(),
    isFinalComment: z.boolean().optional(),
    text: z.string().optional(),
    updateTime: DateTime.optional(),
    uuid: z.string().optional(),
  })
  .strict();

/** A `readOnly` property in a request: the server sets it, so a client must not send it. */
const ReadOnly = z.never().optional();

/** `v2IncidentComment` inside a request body: the readOnly properties may not be sent. */
export const IncidentCommentRequest = z
  .object({
    incidentUuid: z.string().optional(),
    text: z.string().optional(),
    uuid: z.string().optional(),
    authorUuid: ReadOnly,
    createTime: ReadOnly,
    isFinalComment: ReadOnly,
    updateTime: ReadOnly,
  })
  .strict();

/** `IncidentsCloseIncidentBody`: the body of `POST /v2/incidents/{incidentUuid}:close`. */
export const IncidentsCloseIncidentBody = z
  .object({
    closureReason: IncidentResolveReason.optional(),
    finalComment: IncidentCommentRequest.optional(),
  })
  .strict();

/** `IncidentsReopenIncidentBody`: the body of `POST /v2/incidents/{incidentUuid}:reopen`. */
export const IncidentsReopenIncidentBody = z.object({ comment: IncidentCommentRequest.optional() }).strict();

/** `IncidentCommentsCreateIncidentCommentBody`: the body of `POST /v2/incidents/{incidentUuid}/comments`. */
export const IncidentCommentsCreateIncidentCommentBody = z
  .object({ comment: IncidentCommentRequest.optional() })
  .strict();

/** `IncidentCommentsUpdateIncidentCommentTextBody`: the body of `POST .../comments/{commentUuid}/text:update`. */
export const IncidentCommentsUpdateIncidentCommentTextBody = z
  .object({ text: z.string().optional() })
  .strict();

/** `v2GetIncidentResponse`. */
export const GetIncidentResponse = z.object({ incident: Incident.optional() }).strict();

/** `v2ListIncidentsResponse`: `nextPageToken` is "" (or absent) on the last page. */
export const ListIncidentsResponse = z
  .object({ incidents: z.array(Incident).optional(), nextPageToken: z.string().optional() })
  .strict();

/** `v2ListIncidentCommentsResponse`. */
export const ListIncidentCommentsResponse = z
  .object({ comments: z.array(IncidentComment).optional() })
  .strict();

/** `v2CreateIncidentCommentResponse`. */
export const CreateIncidentCommentResponse = z.object({ comment: IncidentComment.optional() }).strict();

/** `v2GetIncidentCommentResponse`. */
export const GetIncidentCommentResponse = z.object({ comment: IncidentComment.optional() }).strict();

/** `v2CloseIncidentResponse` (title "empty", no properties). */
export const CloseIncidentResponse = z.object({}).strict();

/** `v2ReopenIncidentResponse` (title "empty", no properties). */
export const ReopenIncidentResponse = z.object({}).strict();

/** `v2UpdateIncidentCommentTextResponse` (title "empty", no properties). */
export const UpdateIncidentCommentTextResponse = z.object({}).strict();

/** `v2DeleteIncidentCommentResponse` (title "empty", no properties). */
export const DeleteIncidentCommentResponse = z.object({}).strict();

/** `protobufAny`: an `@type` and any further properties, each an object. */
export const ProtobufAny = z
  .object({ '@type': z.string().optional() })
  .catchall(z.record(z.string(), z.unknown()));

/**
 * `rpcStatus` (google.rpc.Status). No response in the spec references it: error bodies are
 * undocumented, so a client must also cope with empty and non-JSON error bodies.
 */
export const RpcStatus = z
  .object({
    code: Int32.optional(),
    message: z.string().optional(),
    details: z.array(ProtobufAny).optional(),
  })
  .strict();

/** Limits of `GET /v2/incidents`'s query parameters (`Incidents_ListIncidents`) and its page size rule. */
export const LIST_INCIDENTS_LIMITS = {
  filterMaxLength: 200,
  orderByMaxLength: 100,
  pageTokenMaxLength: 128,
  pageSizeMaximum: 99_999,
  /** "If unspecified or 0, the default value is 50." */
  defaultPageSize: 50,
  /** "The maximum value is 1000; values above 1000 will be coerced to 1000." */
  maxPageSize: 1000,
} as const;

/** The query parameters of `Incidents_ListIncidents`, with their schemas' limits. */
export const ListIncidentsQuery = z
  .object({
    filter: z.string().max(LIST_INCIDENTS_LIMITS.filterMaxLength).optional(),
    orderBy: z.string().max(LIST_INCIDENTS_LIMITS.orderByMaxLength).optional(),
    pageSize: z.int().min(0).max(LIST_INCIDENTS_LIMITS.pageSizeMaximum).optional(),
    pageToken: z.string().max(LIST_INCIDENTS_LIMITS.pageTokenMaxLength).optional(),
  })
  .strict();

/** The `incidentUuid` and `commentUuid` path parameters: `maxLength: 100`. */
export const UuidPathParameter = z.string().max(100);

/** The `request-id` and `response-id` response headers: `format: uuid`. */
export const IdHeader = z.uuid();
