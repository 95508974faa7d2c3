import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { TicketAction } from '../events/ticket-event';
import { MetricName, type MetricNameValue } from './metric-names';
import type { Observability } from './observability';

/**
 * What happened to one request or one retry message: the typed seam between the core and
 * everything that reports it. The recorder turns each outcome into one log line and its metric;
 * the local runtime, the demo and the chaos tool subscribe to the same events (`onOutcome`).
 */
export type OutcomeKind =
  | 'closed'
  | 'reopened'
  | 'commented'
  | 'already'
  | 'queued'
  | 'requeued'
  | 'dead-lettered'
  | 'rejected'
  | 'refused'
  | 'unauthorized'
  | 'ignored'
  | 'duplicate'
  | 'stale'
  | 'settled'
  | 'redriven'
  | 'reason-conflict'
  | 'error'
  | 'redelivery';

export interface Outcome {
  lambda: 'receive' | 'retry';
  outcome: OutcomeKind;
  at: number;
  tenant?: string;
  incidentUuid?: string;
  action?: TicketAction;
  route?: string;
  correlationId?: string;
  /** Receive: what the sender was answered. */
  httpStatus?: number;
  /** ESET's answer to the last call: an HTTP status, or `lost` / `not-sent`. */
  esetStatus?: string;
  esetRequestId?: string;
  /** Queued or requeued: pending, retry, unknown, time or busy, and when the next step is due. */
  why?: string;
  delaySeconds?: number;
  /** Retry attempts so far for the incident's outstanding work. */
  attempt?: number;
  detail?: string;
}

export type OutcomeListener = (outcome: Outcome) => void;
export type Recorder = (outcome: Omit<Outcome, 'at'> & { at?: number }) => void;

const METRIC: Partial<Record<OutcomeKind, MetricNameValue>> = {
  closed: MetricName.Closed,
  reopened: MetricName.Reopened,
  commented: MetricName.Commented,
  already: MetricName.AlreadyInState,
  queued: MetricName.Queued,
  requeued: MetricName.Retried,
  'dead-lettered': MetricName.DeadLettered,
  rejected: MetricName.Rejected,
  refused: MetricName.InvalidRequest,
  unauthorized: MetricName.SignatureRejected,
  ignored: MetricName.Ignored,
  duplicate: MetricName.Duplicate,
  stale: MetricName.Stale,
  'reason-conflict': MetricName.ReasonConflict,
  redriven: MetricName.Redriven,
};

const WARN = new Set<OutcomeKind>(['rejected', 'refused', 'unauthorized', 'reason-conflict', 'redelivery']);
const ERROR = new Set<OutcomeKind>(['dead-lettered', 'error']);

const MESSAGES: Record<OutcomeKind, string> = {
  closed: 'incident closed',
  reopened: 'incident reopened',
  commented: 'comment added',
  already: 'incident already as wanted',
  queued: 'queued for retry',
  requeued: 'requeued',
  'dead-lettered': 'dead-lettered',
  rejected: 'ESET refused',
  refused: 'invalid webhook request',
  unauthorized: 'webhook authentication rejected',
  ignored: 'payload ignored',
  duplicate: 'duplicate delivery',
  stale: 'older than the event already applied',
  settled: 'nothing left to do',
  redriven: 'redriven: new retry budget, reading the incident first',
  'reason-conflict': 'closed already with another reason',
  error: 'error',
  redelivery: 'record left for redelivery',
};

/** One log line and one metric per outcome, then the listener (never allowed to break a request). */
export function createRecorder(obs: Observability, listener?: OutcomeListener): Recorder {
  const { logger, metrics } = obs;
  return (input) => {
    const o: Outcome = { ...input, at: input.at ?? Date.now() };
    const metric = METRIC[o.outcome];
    if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
    if (o.outcome === 'requeued' && o.why === 'pending') {
      metrics.addMetric(MetricName.PendingResend, MetricUnit.Count, 1);
    }
    const { at: _at, lambda: _l, ...fields } = o;
    const message = MESSAGES[o.outcome];
    if (ERROR.has(o.outcome)) logger.error(message, fields);
    else if (WARN.has(o.outcome)) logger.warn(message, fields);
    else logger.info(message, fields);
    if (listener) {
      try {
        listener(o);
      } catch {
        // a reporting problem must not fail a request
      }
    }
  };
}
