import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EsetCallObserver } from '../eset/client';
import { answerLabel } from '../outcomes/classify';
import { METRICS_NAMESPACE, MetricName, SERVICE_NAME } from './metric-names';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  /** ESET calls and 429s per tenant since the last flush (the tenant dimension). */
  tenantCalls?: Map<string, { calls: number; throttled: number }>;
  /** Webhook requests per route and result since the last flush. */
  requests?: Map<string, number>;
}

/** One webhook request: its route and what it was answered (closed, queued, ignored, refused, ...). */
export function countRequest(obs: Observability, route: string, result: string): void {
  obs.requests ??= new Map();
  const key = `${route}\u0000${result}`;
  obs.requests.set(key, (obs.requests.get(key) ?? 0) + 1);
}

/** One Logger and one Metrics per Lambda container. */
export function createObservability(): Observability {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  };
}

/**
 * Logs every ESET call with its request-id (what ESET support asks for) and counts it; never
 * logs tokens, bodies or comments. Successful calls log at DEBUG: the outcome line that follows
 * carries their request-id, and one line less per close is measurable on the warm path.
 */
export function esetCallObserver(obs: Observability, tenant?: string): EsetCallObserver {
  const { logger, metrics } = obs;
  return ({ call, incidentUuid, answer }) => {
    const esetStatus = answerLabel(answer);
    metrics.addMetric(MetricName.EsetCalls, MetricUnit.Count, 1);
    if (tenant) {
      obs.tenantCalls ??= new Map();
      const count = obs.tenantCalls.get(tenant) ?? { calls: 0, throttled: 0 };
      count.calls += 1;
      if (answer.kind === 'response' && answer.status === 429) count.throttled += 1;
      obs.tenantCalls.set(tenant, count);
    }
    metrics.addMetric(MetricName.EsetLatency, MetricUnit.Milliseconds, answer.latencyMs);
    const authFailed =
      (answer.kind === 'response' && answer.status === 401) ||
      (answer.kind === 'not-sent' && answer.authFailure);
    if (authFailed) metrics.addMetric(MetricName.EsetAuthFailure, MetricUnit.Count, 1);
    if (answer.kind === 'response' && answer.status === 429)
      metrics.addMetric(MetricName.EsetThrottled, MetricUnit.Count, 1);
    const fields = {
      call,
      ...(tenant ? { tenant } : {}),
      incidentUuid,
      esetStatus,
      esetRequestId: answer.kind === 'response' ? answer.requestId : undefined,
      latencyMs: answer.latencyMs,
      ...(answer.kind !== 'response' || answer.status >= 400 ? { esetReason: answer.reason } : {}),
    };
    if (authFailed) logger.error('ESET refused the credentials', fields);
    else if (answer.kind === 'response' && answer.status < 400) logger.debug('ESET call', fields);
    else logger.info('ESET call', fields);
  };
}

/**
 * Publishes the invocation's ESET calls and 429s per tenant, one EMF line per tenant with the
 * `tenant` dimension (the dashboard's calls per second per tenant against ESET's limit), the
 * webhook requests per route and result (`route`, `result` dimensions: what a sender's deliveries
 * came to), then the stored metrics. Called once at the end of every invocation.
 */
export function publishMetrics({ metrics, tenantCalls, requests }: Observability): void {
  if (tenantCalls && tenantCalls.size > 0) {
    for (const [tenant, count] of tenantCalls) {
      const single = metrics.singleMetric();
      single.addDimension('tenant', tenant);
      single.addMetric(MetricName.EsetCalls, MetricUnit.Count, count.calls);
      if (count.throttled > 0) single.addMetric(MetricName.EsetThrottled, MetricUnit.Count, count.throttled);
      single.publishStoredMetrics();
    }
    tenantCalls.clear();
  }
  if (requests && requests.size > 0) {
    for (const [key, count] of requests) {
      const [route = '', result = ''] = key.split('\u0000');
      const single = metrics.singleMetric();
      single.addDimensions({ route, result });
      single.addMetric(MetricName.Requests, MetricUnit.Count, count);
      single.publishStoredMetrics();
    }
    requests.clear();
  }
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
