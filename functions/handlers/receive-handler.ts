import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { Config } from '../config/config';
import { BadRequestError, BridgeError, describeError, EnqueueError, SignatureError } from '../errors/errors';
import { errorAnswer, type HttpAnswer, json } from '../http/answers';
import { StoreUnavailableError } from '../incidents/store';
import type { IncidentWorker } from '../incidents/worker';
import { MetricName } from '../observability/metric-names';
import { countRequest, type Observability, publishMetrics } from '../observability/observability';
import type { Recorder } from '../observability/outcomes';
import { admit, deliveryId, type IntakeDeps } from '../senders/intake';

export interface ReceiveDeps extends Observability, IntakeDeps {
  config: Pick<Config, 'maxBodyBytes' | 'webhookToleranceSeconds' | 'tenant'>;
  worker: Pick<IncidentWorker, 'onEvent'>;
  record: Recorder;
}

/**
 * The receive Lambda (Function URL, payload v2): route, authenticate, adapt, then hand the ticket
 * event to the incident worker, which answers 200 when ESET is already as wanted, 202 once the
 * rest is stored for the retry path, or the refusal. Nothing invalid reaches ESET, SQS or the
 * incident store.
 */
export function makeReceiveHandler(deps: ReceiveDeps) {
  const { logger, metrics, record } = deps;
  return async (event: APIGatewayProxyEventV2, context?: Partial<Context>): Promise<HttpAnswer> => {
    if (context?.functionName) logger.addContext(context as Context);
    const correlationId =
      deliveryId(event.headers) ?? context?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    logger.appendKeys({ correlationId });
    // Known before admission, so refusals (401, 400) count against their route too.
    let route = deps.routes.find(event.rawPath ?? event.requestContext?.http?.path ?? '/')?.path;
    let result = 'error';
    try {
      const admitted = await admit(event, deps);
      route = admitted.route.path;
      const ticket = admitted.adapted;
      if (ticket.kind === 'ignore') {
        record({
          lambda: 'receive',
          outcome: 'ignored',
          route,
          correlationId,
          httpStatus: 200,
          detail: ticket.reason,
        });
        const ticketId = ticket.ticketId ? { ticketId: ticket.ticketId } : {};
        result = 'ignored';
        return json(200, { status: 'ignored', reason: ticket.reason, ...ticketId });
      }
      const answer = await deps.worker.onEvent(ticket.event, {
        tenant: admitted.route.tenant ?? deps.config.tenant,
        correlationId,
        route,
      });
      result = String(answer.body.status);
      const http = json(answer.statusCode, answer.body);
      return answer.headers ? { ...http, headers: { ...http.headers, ...answer.headers } } : http;
    } catch (err) {
      const status = err instanceof BridgeError && err.expose ? err.statusCode : 500;
      const base = {
        lambda: 'receive' as const,
        correlationId,
        httpStatus: status,
        ...(route ? { route } : {}),
      };
      if (err instanceof SignatureError) {
        result = 'unauthorized';
        record({ ...base, outcome: 'unauthorized', detail: err.message });
      } else if (err instanceof BadRequestError) {
        result = 'refused';
        record({ ...base, outcome: 'refused', detail: err.message });
      } else {
        if (err instanceof EnqueueError) metrics.addMetric(MetricName.EnqueueFailed, MetricUnit.Count, 1);
        if (err instanceof StoreUnavailableError)
          metrics.addMetric(MetricName.StateStoreFailed, MetricUnit.Count, 1);
        record({ ...base, outcome: 'error', detail: describeError(err) });
      }
      return errorAnswer(err);
    } finally {
      countRequest(deps, route ?? 'unrouted', result);
      publishMetrics(deps);
      logger.resetKeys();
    }
  };
}
