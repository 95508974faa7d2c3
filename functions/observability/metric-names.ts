/**
 * EMF namespace, service and metric names (Powertools Metrics): the one list the Lambda code, the
 * alarms, the dashboard and the infra tests all read, so a rename cannot silence an alarm.
 */
export const METRICS_NAMESPACE = 'EsetCloseBridge';
/** Powertools adds `service` as the single default dimension, from `POWERTOOLS_SERVICE_NAME`. */
export const SERVICE_NAME = 'eset-close-bridge';

export const MetricName = {
  /** ESET confirmed the close (200, or already closed). */
  Closed: 'Closed',
  /** The receive Lambda handed the request to the retry queue (202 queued). */
  Queued: 'Queued',
  /** ESET reopened the incident at the bridge's request. */
  Reopened: 'Reopened',
  /** A ticket comment was added to the incident. */
  Commented: 'Commented',
  /** A close of a closed incident, or a reopen of an open one: nothing to change at ESET. */
  AlreadyInState: 'AlreadyInState',
  /** A ticket event older than one already applied: not applied. */
  Stale: 'Stale',
  /** A close for an incident already closed with another reason: the first reason stands. */
  ReasonConflict: 'ReasonConflict',
  /** A message came back from the dead-letter queue: new budget, read first. */
  Redriven: 'Redriven',
  /** ESET refused the close (400 not closed, 403, 404): answered 4xx or dead-lettered. */
  Rejected: 'Rejected',
  /** A request was parked in the DLQ (budget spent, rejected or invalid message). */
  DeadLettered: 'DeadLettered',
  /** The retry Lambda re-enqueued a request with a backoff delay. */
  Retried: 'Retried',
  /** ESET answered 202: the retry Lambda re-sends with the response-id. */
  PendingResend: 'PendingResend',
  /** Webhook request failed validation (400/405/413/415). */
  InvalidRequest: 'InvalidRequest',
  /** Webhook signature or credentials missing, stale or wrong (401). */
  SignatureRejected: 'SignatureRejected',
  /** The receive Lambda could not write to the retry queue: the request was NOT accepted (503). */
  EnqueueFailed: 'EnqueueFailed',
  /** The incident store (STATE_TABLE) could not be read or written: the request was NOT accepted (503). */
  StateStoreFailed: 'StateStoreFailed',
  /** ESET refused the credentials (token grant refused, or 401 after a fresh token). */
  EsetAuthFailure: 'EsetAuthFailure',
  /** Duration of one ESET call, in milliseconds. */
  EsetLatency: 'EsetLatency',
  /** Webhook requests, with the dimensions `route` and `result` (closed, queued, ignored, refused, ...). */
  Requests: 'Requests',
  /** Number of ESET calls made. */
  EsetCalls: 'EsetCalls',
  /** ESET answered 429: the shared budget was exceeded (or ESET throttles harder than documented). */
  EsetThrottled: 'EsetThrottled',
  /** A repeated ticket event (the same event key) answered from the incident record. */
  Duplicate: 'Duplicate',
  /** A sender's payload without an ESET incident id, answered 200 "ignored". */
  Ignored: 'Ignored',
} as const;

export type MetricNameValue = (typeof MetricName)[keyof typeof MetricName];

/**
 * The ESET-to-ticket sync's metrics, emitted by the sync Lambda only (so they are on the dashboard
 * and alarmed only in stacks with the sync switched on).
 */
export const SyncMetricName = {
  /** After each run: seconds from the watermark (everything before it is told) to now. */
  SyncLagSeconds: 'SyncLagSeconds',
  /** Tickets opened for new ESET incidents. */
  SyncTicketsCreated: 'SyncTicketsCreated',
  /** News told to tickets: closes, reopens, ESET comments, failed closes. */
  SyncNewsTold: 'SyncNewsTold',
  /** News the sync gave up after repeated refusals by the ticket target. */
  SyncGaveUp: 'SyncGaveUp',
  /** ESET calls of one run (list pages and comment reads). */
  SyncEsetCalls: 'SyncEsetCalls',
} as const;

export type SyncMetricNameValue = (typeof SyncMetricName)[keyof typeof SyncMetricName];
