import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Clock } from '../clock/clock';
import { describeError } from '../errors/errors';
import { SyncMetricName } from '../observability/metric-names';
import type { Observability } from '../observability/observability';
import type { SyncReport } from '../sync/engine';

export interface SyncHandlerDeps extends Observability {
  sync: { run(opts: { deadline: number }): Promise<SyncReport> };
  clock: Pick<Clock, 'now'>;
}

/** Time kept back from the Lambda's own timeout: the run's last save and the metrics. */
const SAFETY_MS = 15_000;
/** A run's budget when no Lambda context says otherwise (the local runtime's timer). */
const DEFAULT_RUN_MS = 120_000;

/**
 * The sync Lambda (EventBridge schedule): one bounded run of the ESET-to-ticket sync, then its
 * figures: `SyncLagSeconds` (alarmed past two intervals), tickets created, news told, news given
 * up, ESET calls. A run that fails throws (the `SyncErrors` alarm); one that ran out of time or
 * met an unavailable ESET or ticket target ends normally and the next run carries on from the
 * watermark it saved.
 */
export function makeSyncHandler(deps: SyncHandlerDeps) {
  const { logger, metrics } = deps;
  return async (_event?: unknown, context?: Partial<Context>): Promise<SyncReport> => {
    if (context?.functionName) logger.addContext(context as Context);
    const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_RUN_MS + SAFETY_MS;
    const deadline = deps.clock.now() + Math.max(1_000, remaining - SAFETY_MS);
    try {
      const report = await deps.sync.run({ deadline });
      metrics.addMetric(SyncMetricName.SyncLagSeconds, MetricUnit.Seconds, report.lagSeconds);
      metrics.addMetric(SyncMetricName.SyncTicketsCreated, MetricUnit.Count, report.created);
      const told = report.told.closed + report.told.reopened + report.told.commented + report.told.failed;
      metrics.addMetric(SyncMetricName.SyncNewsTold, MetricUnit.Count, told);
      metrics.addMetric(SyncMetricName.SyncGaveUp, MetricUnit.Count, report.gaveUp);
      metrics.addMetric(
        SyncMetricName.SyncEsetCalls,
        MetricUnit.Count,
        report.esetCalls.list + report.esetCalls.comments,
      );
      const summary = {
        complete: report.complete,
        ...(report.stoppedBy ? { stoppedBy: report.stoppedBy } : {}),
        watermark: report.watermark,
        lagSeconds: report.lagSeconds,
        pages: report.pages,
        listed: report.listed,
        created: report.created,
        linked: report.linked,
        told: report.told,
        alreadyInTicket: report.alreadyInTicket,
        deferred: report.deferred,
        retry: report.retry,
        gaveUp: report.gaveUp,
        esetCalls: report.esetCalls,
        durationMs: report.finishedAt - report.startedAt,
      };
      if (report.gaveUp > 0) logger.error('sync run gave up news', summary);
      else if (report.stoppedBy && !report.busy) logger.warn('sync run stopped early', summary);
      else logger.info('sync run', summary);
      return report;
    } catch (err) {
      logger.error('sync run failed', { error: describeError(err) });
      throw err;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
