import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type AdvanceDeps, advance, newWork } from '../close/advance';
import type { Config } from '../config/config';
import { BadRequestError, describeError, EnqueueError, SignatureError } from '../errors/errors';
import { errorAnswer, type HttpAnswer, json } from '../http/answers';
import { type IdempotencyGuard, IdempotencyStoreError } from '../idempotency/guard';
import { MetricName } from '../observability/metric-names';
import type { Observability } from '../observability/observability';
import type { RetryQueue } from '../retry-queue/queue';
import { admit, deliveryId, type IntakeDeps } from '../senders/intake';
import type { CloseRequest } from '../webhook/close-request';

export interface ReceiveDeps extends AdvanceDeps, Observability, IntakeDeps {
  config: Pick<Config, 'esetTimeoutMs' | 'maxBodyBytes' | 'webhookToleranceSeconds'>;
  queue: RetryQueue;
  /** Duplicate-safe delivery (IDEMPOTENCY_TABLE); without it every delivery reaches ESET. */
  idempotency?: IdempotencyGuard;
}

/** Room to enqueue and answer after ESET's budget: how long an in-progress marker holds outside Lambda. */
const ANSWER_MARGIN_MS = 2000;

/**
 * The receive Lambda (Function URL, payload v2): route, authenticate, adapt, one step at ESET
 * (once per close within the idempotency window), answer. Nothing invalid reaches ESET or SQS;
 * nothing accepted is answered 202 unless it is stored.
 */
export function makeReceiveHandler(deps: ReceiveDeps) {
  const { logger, metrics } = deps;
  return async (
    event: APIGatewayProxyEventV2,
    context?: Pick<Context, 'awsRequestId'> & Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<HttpAnswer> => {
    const correlationId =
      deliveryId(event.headers) ?? context?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    logger.appendKeys({ correlationId });
    try {
      const { route, adapted } = await admit(event, deps);
      logger.appendKeys({ route: route.path });
      if (adapted.kind === 'ignore') {
        metrics.addMetric(MetricName.Ignored, MetricUnit.Count, 1);
        logger.info('payload ignored', { reason: adapted.reason, ticketId: adapted.ticketId });
        return json(200, {
          status: 'ignored',
          reason: adapted.reason,
          ...(adapted.ticketId ? { ticketId: adapted.ticketId } : {}),
        });
      }
      // Until reopen and comment reach ESET, only a close goes on (as a CloseRequest).
      const { event: ticketEvent } = adapted;
      if (ticketEvent.action !== 'close') {
        const reason = `${ticketEvent.action} events are not passed to ESET yet`;
        return json(200, {
          status: 'ignored',
          reason,
          ...(ticketEvent.ticketId ? { ticketId: ticketEvent.ticketId } : {}),
        });
      }
      const request: CloseRequest = {
        incidentUuid: ticketEvent.incidentUuid,
        closureReason: ticketEvent.closureReason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
        comment: ticketEvent.comment ?? '',
        ...(ticketEvent.ticketId ? { ticketId: ticketEvent.ticketId } : {}),
      };
      logger.appendKeys({
        incidentUuid: request.incidentUuid,
        ...(request.ticketId ? { ticketId: request.ticketId } : {}),
      });
      const close = () => closeAtEset(deps, request, correlationId);
      if (!deps.idempotency) return await close();
      const inProgressMs =
        context?.getRemainingTimeInMillis?.() ?? deps.config.esetTimeoutMs + ANSWER_MARGIN_MS;
      const once = await deps.idempotency.once(request, inProgressMs, close);
      switch (once.kind) {
        case 'first':
          return once.answer;
        case 'replay':
          metrics.addMetric(MetricName.Duplicate, MetricUnit.Count, 1);
          logger.info('duplicate delivery answered with the first outcome', {
            outcome: 'duplicate',
            firstStatus: once.answer.statusCode,
          });
          return { ...once.answer, headers: { ...once.answer.headers, 'idempotent-replay': 'true' } };
        case 'in-progress': {
          // The same close is at ESET right now. Answering it without a second ESET call, and
          // with a status every sender retries (Jira: 409; Zendesk, Standard Webhooks: non-2xx),
          // makes the retry arrive after the first attempt stored its outcome, which it then gets.
          metrics.addMetric(MetricName.Duplicate, MetricUnit.Count, 1);
          logger.info('duplicate delivery while the first is in progress', { outcome: 'in-progress' });
          const answer = json(409, {
            status: 'in-progress',
            incidentUuid: request.incidentUuid,
            message: 'The same close is being processed; retry later for its outcome',
          });
          return {
            ...answer,
            headers: { ...answer.headers, 'retry-after': String(Math.ceil(inProgressMs / 1000)) },
          };
        }
      }
    } catch (err) {
      if (err instanceof SignatureError) {
        metrics.addMetric(MetricName.SignatureRejected, MetricUnit.Count, 1);
        logger.warn('webhook signature rejected', { reason: err.message });
      } else if (err instanceof BadRequestError) {
        metrics.addMetric(MetricName.InvalidRequest, MetricUnit.Count, 1);
        logger.warn('invalid webhook request', { reason: err.message, errors: err.details });
      } else if (err instanceof IdempotencyStoreError) {
        logger.error('idempotency store unavailable', { error: describeError(err.cause) });
      } else if (!(err instanceof EnqueueError)) {
        logger.error('unexpected error', { error: describeError(err) });
      }
      return errorAnswer(err);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

/**
 * One step at ESET and its answer: 200 closed, 202 queued (only once stored on the retry queue),
 * 404/422 rejected. Throws EnqueueError (503) when the queue cannot store the request.
 */
async function closeAtEset(
  deps: ReceiveDeps,
  request: CloseRequest,
  correlationId: string,
): Promise<HttpAnswer> {
  const { logger, metrics } = deps;
  const work = newWork(request, correlationId, deps.clock.now());
  const decision = await advance(deps, work, deps.clock.now() + deps.config.esetTimeoutMs);
  switch (decision.kind) {
    case 'closed':
      metrics.addMetric(MetricName.Closed, MetricUnit.Count, 1);
      logger.info('incident closed', {
        outcome: 'closed',
        how: decision.how,
        attempt: 1,
        esetStatus: decision.work.lastStatus,
        esetRequestId: decision.work.lastRequestId,
      });
      return json(200, {
        status: 'closed',
        incidentUuid: request.incidentUuid,
        ...(decision.how === 'already-closed' ? { note: 'the incident was already closed' } : {}),
      });
    case 'rejected':
      metrics.addMetric(MetricName.Rejected, MetricUnit.Count, 1);
      logger.warn('ESET refused the close', {
        outcome: 'rejected',
        esetRequestId: decision.work.lastRequestId,
        esetStatus: decision.status,
        reason: decision.reason,
      });
      return json(decision.status === 404 ? 404 : 422, {
        status: 'rejected',
        incidentUuid: request.incidentUuid,
        esetStatus: decision.status,
        reason: decision.reason,
      });
    case 'requeue':
      try {
        await deps.queue.enqueue(decision.work, decision.delaySeconds);
      } catch (err) {
        metrics.addMetric(MetricName.EnqueueFailed, MetricUnit.Count, 1);
        logger.error('could not store the request on the retry queue', { error: describeError(err) });
        throw new EnqueueError('The request could not be stored for retry; please retry later', {
          cause: err,
        });
      }
      metrics.addMetric(MetricName.Queued, MetricUnit.Count, 1);
      logger.info('close queued for retry', {
        outcome: decision.outcome,
        esetStatus: decision.work.lastStatus,
        esetRequestId: decision.work.lastRequestId,
        delaySeconds: decision.delaySeconds,
      });
      // ESET's last answer ("429", "503", "lost", "not-sent", ...) tells the operator why it waits.
      return json(202, {
        status: 'queued',
        incidentUuid: request.incidentUuid,
        reason: decision.outcome,
        ...(decision.work.lastStatus ? { esetStatus: decision.work.lastStatus } : {}),
      });
  }
}
