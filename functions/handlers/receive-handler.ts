import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type AdvanceDeps, advance, newWork } from '../close/advance';
import type { Config } from '../config/config';
import { BadRequestError, describeError, EnqueueError, SignatureError } from '../errors/errors';
import { errorAnswer, type HttpAnswer, json } from '../http/answers';
import { MetricName } from '../observability/metric-names';
import type { Observability } from '../observability/observability';
import type { RetryQueue } from '../retry-queue/queue';
import { parseCloseRequest } from '../webhook/close-request';
import { verify } from '../webhook/standard-webhooks';

export interface ReceiveDeps extends AdvanceDeps, Observability {
  config: Pick<Config, 'esetTimeoutMs' | 'maxBodyBytes' | 'webhookToleranceSeconds'>;
  queue: RetryQueue;
  /** The accepted `whsec_` secrets (current first, then the previous one during rotation). */
  webhookSecrets: () => Promise<readonly string[]>;
}

/**
 * The receive Lambda (Function URL, payload v2): check, verify, parse, one step at ESET, answer.
 * Nothing invalid reaches ESET or SQS; nothing accepted is answered 202 unless it is stored.
 */
export function makeReceiveHandler(deps: ReceiveDeps) {
  const { logger, metrics } = deps;
  return async (
    event: APIGatewayProxyEventV2,
    context?: Pick<Context, 'awsRequestId'>,
  ): Promise<HttpAnswer> => {
    const correlationId =
      event.headers?.['webhook-id'] ?? context?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    logger.appendKeys({ correlationId });
    try {
      const request = await accept(event, deps);
      logger.appendKeys({
        incidentUuid: request.incidentUuid,
        ...(request.ticketId ? { ticketId: request.ticketId } : {}),
      });
      const work = newWork(request, correlationId, deps.clock.now());
      const decision = await advance(deps, work, deps.clock.now() + deps.config.esetTimeoutMs);
      switch (decision.kind) {
        case 'closed':
          metrics.addMetric(MetricName.Closed, MetricUnit.Count, 1);
          logger.info('incident closed', { outcome: 'closed', how: decision.how, attempt: 1 });
          return json(200, {
            status: 'closed',
            incidentUuid: request.incidentUuid,
            ...(decision.how === 'already-closed' ? { note: 'the incident was already closed' } : {}),
          });
        case 'rejected':
          metrics.addMetric(MetricName.Rejected, MetricUnit.Count, 1);
          logger.warn('ESET refused the close', {
            outcome: 'rejected',
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
          return json(202, {
            status: 'queued',
            incidentUuid: request.incidentUuid,
            reason: decision.outcome,
          });
      }
    } catch (err) {
      if (err instanceof SignatureError) {
        metrics.addMetric(MetricName.SignatureRejected, MetricUnit.Count, 1);
        logger.warn('webhook signature rejected', { reason: err.message });
      } else if (err instanceof BadRequestError) {
        metrics.addMetric(MetricName.InvalidRequest, MetricUnit.Count, 1);
        logger.warn('invalid webhook request', { reason: err.message, errors: err.details });
      } else if (!(err instanceof EnqueueError)) {
        logger.error('unexpected error', { error: describeError(err) });
      }
      return errorAnswer(err);
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

/** Everything a request must pass before the bridge does anything with it. */
async function accept(event: APIGatewayProxyEventV2, deps: ReceiveDeps) {
  const method = event.requestContext?.http?.method ?? 'POST';
  if (method !== 'POST')
    throw new BadRequestError(`Method ${method} not allowed; use POST`, { statusCode: 405 });
  const headers = event.headers ?? {};
  const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    throw new BadRequestError('Content-Type must be application/json', { statusCode: 415 });
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > deps.config.maxBodyBytes) {
    throw new BadRequestError(`Body larger than ${deps.config.maxBodyBytes} bytes`, { statusCode: 413 });
  }
  const body = bytes.toString('utf8');
  if (event.isBase64Encoded && !Buffer.from(body, 'utf8').equals(bytes)) {
    throw new BadRequestError('Body is not valid UTF-8', { statusCode: 400 });
  }
  verify(
    await deps.webhookSecrets(),
    {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
    },
    body,
    Math.floor(deps.clock.now() / 1000),
    deps.config.webhookToleranceSeconds,
  );
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BadRequestError('Body is not valid JSON', { statusCode: 400 });
  }
  const parsed = parseCloseRequest(value);
  if (!parsed.ok) {
    throw new BadRequestError('Invalid close request', { statusCode: 400, details: parsed.problems });
  }
  return parsed.request;
}
