/**
 * The EMF metrics the Lambdas publish (Powertools Metrics). The alarms, the dashboard and the
 * infra tests read the names from here, so a rename in one place breaks the test, not the alarm.
 */
export const METRIC_NAMESPACE = 'EsetCloseBridge';

/** Powertools adds `service` as the single default dimension, from `POWERTOOLS_SERVICE_NAME`. */
export const SERVICE_NAME = 'eset-close-bridge';

export const METRIC = {
  /** ESET confirmed the close (200, or already closed). */
  closed: 'Closed',
  /** The receive Lambda handed the request to the retry queue (202 queued). */
  queued: 'Queued',
  /** ESET refused the close (400 not closed, 403, 404): answered 4xx or dead-lettered. */
  rejected: 'Rejected',
  /** The retry Lambda parked a request in the DLQ (budget spent, rejected or invalid message). */
  deadLettered: 'DeadLettered',
  /** The retry Lambda re-enqueued a request with a backoff delay. */
  retried: 'Retried',
  /** ESET answered 202: the retry Lambda re-sends with the response-id. */
  pendingResend: 'PendingResend',
  /** Webhook body failed validation (400/413/415). */
  invalidRequest: 'InvalidRequest',
  /** Webhook signature missing, stale or wrong (401). */
  signatureRejected: 'SignatureRejected',
  /** The receive Lambda could not write to the retry queue: the request was NOT accepted. */
  enqueueFailed: 'EnqueueFailed',
  /** ESET answered 401 twice in a row: the API user's credentials are broken. */
  esetAuthFailure: 'EsetAuthFailure',
  /** Duration of one ESET call, in milliseconds. */
  esetLatency: 'EsetLatency',
  /** Number of ESET calls made. */
  esetCalls: 'EsetCalls',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
