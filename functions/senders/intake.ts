import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { authenticate } from '../auth/schemes';
import type { Clock } from '../clock/clock';
import type { Config } from '../config/config';
import { BadRequestError } from '../errors/errors';
import type { Adapted } from './adapters';
import { type Route, type RouteSecrets, type RouteTable, secretsFor } from './routes';

export interface IntakeDeps {
  config: Pick<Config, 'maxBodyBytes' | 'webhookToleranceSeconds'>;
  routes: RouteTable;
  webhookSecrets: () => Promise<RouteSecrets>;
  clock: Pick<Clock, 'now'>;
}

/**
 * Everything a request must pass before the bridge does anything with it: method, route, content
 * type, size, UTF-8, the route's authentication (before the body is parsed), JSON, and the route's
 * adapter. Throws BadRequestError (4xx) or SignatureError (401).
 */
export async function admit(
  event: APIGatewayProxyEventV2,
  deps: IntakeDeps,
): Promise<{ route: Route; adapted: Adapted }> {
  const method = event.requestContext?.http?.method ?? 'POST';
  if (method !== 'POST')
    throw new BadRequestError(`Method ${method} not allowed; use POST`, { statusCode: 405 });
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  const route = deps.routes.find(path);
  if (!route) throw new BadRequestError(`No webhook route at ${path.slice(0, 100)}`, { statusCode: 404 });
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
  authenticate(route.auth, secretsFor(route, await deps.webhookSecrets()), {
    headers,
    body,
    nowSeconds: Math.floor(deps.clock.now() / 1000),
    toleranceSeconds: deps.config.webhookToleranceSeconds,
  });
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BadRequestError('Body is not valid JSON', { statusCode: 400 });
  }
  return { route, adapted: route.adapter.adapt(value) };
}

/** The sender's delivery id, for correlating logs with the sender's delivery log. */
export function deliveryId(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): string | undefined {
  if (!headers) return undefined;
  const id =
    headers['webhook-id'] ??
    headers['x-zendesk-webhook-invocation-id'] ??
    headers['x-atlassian-webhook-identifier'] ??
    headers['x-request-id'];
  return id?.slice(0, 256);
}
