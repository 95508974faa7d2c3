import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EsetCallObserver } from '../eset/client';
import { answerLabel } from '../outcomes/classify';
import { METRICS_NAMESPACE, MetricName, SERVICE_NAME } from './metric-names';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
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
export function esetCallObserver({ logger, metrics }: Observability): EsetCallObserver {
  return ({ call, incidentUuid, answer }) => {
    const esetStatus = answerLabel(answer);
    metrics.addMetric(MetricName.EsetCalls, MetricUnit.Count, 1);
    metrics.addMetric(MetricName.EsetLatency, MetricUnit.Milliseconds, answer.latencyMs);
    const authFailed =
      (answer.kind === 'response' && answer.status === 401) ||
      (answer.kind === 'not-sent' && answer.authFailure);
    if (authFailed) metrics.addMetric(MetricName.EsetAuthFailure, MetricUnit.Count, 1);
    const fields = {
      call,
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
