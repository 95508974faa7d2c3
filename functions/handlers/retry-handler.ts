import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AdvanceDeps, advance } from '../close/advance';
import type { Config } from '../config/config';
import { describeError } from '../errors/errors';
import { MetricName } from '../observability/metric-names';
import type { Observability } from '../observability/observability';
import { atPhase, parseRetryMessage, type RetryMessage } from '../retry-queue/message';
import type { RetryQueue } from '../retry-queue/queue';

export interface RetryDeps extends AdvanceDeps, Observability {
  config: Pick<Config, 'esetTimeoutMs' | 'retryMaxAgeSeconds'>;
  queue: RetryQueue;
}

/**
 * The retry Lambda (SQS event source with ReportBatchItemFailures). Each record moves one step:
 * closed -> deleted; still open at ESET -> a new, delayed message; refused, past the retry budget
 * or unreadable -> dead-letter queue with the reason. A record fails alone (batchItemFailures)
 * only when its next state could not be stored, so SQS delivers it again.
 */
export function makeRetryHandler(deps: RetryDeps) {
  const { logger, metrics } = deps;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(event.Records.map((record) => processRecord(deps, record)));
    const batchItemFailures = results.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [];
      const record = event.Records[i] as SQSRecord;
      logger.error('record left for redelivery', {
        messageId: record.messageId,
        error: describeError(r.reason),
      });
      return [{ itemIdentifier: record.messageId }];
    });
    metrics.publishStoredMetrics();
    return { batchItemFailures };
  };
}

async function processRecord(deps: RetryDeps, record: SQSRecord): Promise<void> {
  const { logger, metrics, queue, clock } = deps;
  const parsed = parseRetryMessage(record.body);
  if (!parsed.ok) {
    await queue.deadLetter(record.body, { reason: `invalid retry message: ${parsed.problem}` });
    metrics.addMetric(MetricName.DeadLettered, MetricUnit.Count, 1);
    logger.error('invalid retry message dead-lettered untouched', {
      messageId: record.messageId,
      reason: parsed.problem,
      outcome: 'dead-lettered',
    });
    return;
  }
  const work = redriven(parsed.message, clock.now());
  const log = logger.createChild({
    persistentKeys: { correlationId: work.correlationId, incidentUuid: work.request.incidentUuid },
  });

  if (parsed.message.deadLettered) {
    log.info('redriven from the dead-letter queue: new retry budget, reading the incident first', {
      previousReason: parsed.message.deadLettered.reason,
      redrives: work.redrives,
    });
  }
  const now = clock.now();
  const ageSeconds = (now - Date.parse(work.budgetStart ?? work.firstSeen)) / 1000;
  if (ageSeconds > deps.config.retryMaxAgeSeconds) {
    await deadLetter(
      deps,
      work,
      `retry budget exhausted after ${Math.round(ageSeconds)} s: ${work.lastReason ?? 'no answer'}`,
    );
    log.error('retry budget exhausted, dead-lettered', {
      outcome: 'dead-lettered',
      attempt: work.attempt,
      esetStatus: work.lastStatus,
    });
    return;
  }

  const decision = await advance(deps, work, now + deps.config.esetTimeoutMs);
  const fields = {
    attempt: decision.work.attempt,
    esetStatus: decision.work.lastStatus,
    esetRequestId: decision.work.lastRequestId,
  };
  switch (decision.kind) {
    case 'closed':
      metrics.addMetric(MetricName.Closed, MetricUnit.Count, 1);
      log.info('incident closed', { outcome: 'closed', how: decision.how, ...fields });
      return;
    case 'rejected':
      await deadLetter(deps, decision.work, decision.reason);
      metrics.addMetric(MetricName.Rejected, MetricUnit.Count, 1);
      log.warn('ESET refused the close, dead-lettered', {
        outcome: 'dead-lettered',
        reason: decision.reason,
        ...fields,
      });
      return;
    case 'requeue':
      await queue.enqueue(decision.work, decision.delaySeconds);
      metrics.addMetric(
        decision.outcome === 'pending' ? MetricName.PendingResend : MetricName.Retried,
        MetricUnit.Count,
        1,
      );
      log.info('close requeued', {
        outcome: decision.outcome,
        delaySeconds: decision.delaySeconds,
        ...fields,
      });
      return;
  }
}

/**
 * An operator moved a message the bridge had dead-lettered back to the retry queue: give it a new
 * budget and start by reading the incident, since its state may have changed meanwhile.
 */
function redriven(work: RetryMessage, now: number): RetryMessage {
  if (!work.deadLettered) return work;
  const { deadLettered: _d, ...rest } = work;
  return {
    ...atPhase(rest, 'verify'),
    budgetStart: new Date(now).toISOString(),
    redrives: (work.redrives ?? 0) + 1,
  };
}

async function deadLetter(deps: RetryDeps, work: RetryMessage, reason: string): Promise<void> {
  const parked: RetryMessage = {
    ...work,
    deadLettered: { at: new Date(deps.clock.now()).toISOString(), reason: reason.slice(0, 2000) },
  };
  await deps.queue.deadLetter(JSON.stringify(parked), {
    reason,
    lastStatus: work.lastStatus,
    attempts: work.attempt,
    firstSeen: work.firstSeen,
    esetRequestId: work.lastRequestId,
    incidentUuid: work.request.incidentUuid,
    correlationId: work.correlationId,
  });
  deps.metrics.addMetric(MetricName.DeadLettered, MetricUnit.Count, 1);
}
