/** EMF namespace, service and metric names: the same in code, alarms and the dashboard. */
export const METRICS_NAMESPACE = 'EsetCloseBridge';
export const SERVICE_NAME = 'eset-close-bridge';

export const MetricName = {
  Closed: 'Closed',
  Queued: 'Queued',
  Rejected: 'Rejected',
  DeadLettered: 'DeadLettered',
  Retried: 'Retried',
  PendingResend: 'PendingResend',
  InvalidRequest: 'InvalidRequest',
  SignatureRejected: 'SignatureRejected',
  EnqueueFailed: 'EnqueueFailed',
  EsetAuthFailure: 'EsetAuthFailure',
  EsetLatency: 'EsetLatency',
  EsetCalls: 'EsetCalls',
} as const;
