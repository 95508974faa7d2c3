import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../config/config';
import { describeError } from '../errors/errors';
import { StoreUnavailableError } from '../incidents/store';
import type { IncidentWorker } from '../incidents/worker';
import { MetricName } from '../observability/metric-names';
import { type Observability, publishMetrics } from '../observability/observability';
import type { Recorder } from '../observability/outcomes';
import { parseRetryMessage } from '../retry-queue/message';
import type { RetryQueue } from '../retry-queue/queue';

export interface RetryDeps extends Observability {
  config: Pick<Config, 'retryQueueMaxReceives' | 'tenant'>;
  worker: Pick<IncidentWorker, 'onMessage' | 'onEvent'>;
  queue: RetryQueue;
  record: Recorder;
}

/**
 * The retry Lambda (SQS event source, ReportBatchItemFailures through Powertools Batch). Each
 * message wakes one incident's work (functions/incidents/worker.ts). A record fails alone, and
 * only when its next state could not be stored; on its last delivery a failing record is
 * dead-lettered by the bridge with the reason, rather than moved by SQS without one.
 */
export function makeRetryHandler(deps: RetryDeps) {
  const { logger, queue, record } = deps;
  const processor = new BatchProcessor(EventType.SQS);

  const one = async (msg: SQSRecord): Promise<void> => {
    const parsed = parseRetryMessage(msg.body);
    if (!parsed.ok) {
      await queue.deadLetter(msg.body, { reason: `invalid retry message: ${parsed.problem}` });
      record({
        lambda: 'retry',
        outcome: 'dead-lettered',
        detail: `invalid retry message: ${parsed.problem}`,
      });
      return;
    }
    if (parsed.kind === 'v1') {
      // Queued before the upgrade: the close becomes an event on the incident record.
      const { incidentUuid, closureReason, comment, ticketId } = parsed.request;
      const event = {
        action: 'close' as const,
        incidentUuid,
        closureReason,
        comment,
        ...(ticketId ? { ticketId } : {}),
      };
      await deps.worker.onEvent(event, {
        tenant: deps.config.tenant,
        correlationId: parsed.correlationId,
        via: 'retry',
      });
      return;
    }
    await deps.worker.onMessage(parsed.message);
  };

  const handle = async (msg: SQSRecord): Promise<void> => {
    try {
      await one(msg);
    } catch (err) {
      if (err instanceof StoreUnavailableError)
        deps.metrics.addMetric(MetricName.StateStoreFailed, MetricUnit.Count, 1);
      const receives = Number(msg.attributes?.ApproximateReceiveCount ?? '1');
      if (receives < deps.config.retryQueueMaxReceives) {
        record({ lambda: 'retry', outcome: 'redelivery', detail: describeError(err) });
        throw err;
      }
      const reason = `the retry Lambda failed on this message ${receives} times: ${describeError(err)}`;
      await queue.deadLetter(msg.body, { reason });
      record({ lambda: 'retry', outcome: 'dead-lettered', detail: reason });
    }
  };

  return async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
    if (context?.functionName) logger.addContext(context as Context);
    try {
      return await processPartialResponse(event, handle, processor, {
        ...(context?.functionName ? { context: context as Context } : {}),
        throwOnFullBatchFailure: false,
      });
    } finally {
      publishMetrics(deps);
    }
  };
}
