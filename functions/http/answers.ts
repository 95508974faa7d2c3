import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BridgeError } from '../errors/errors';

export type HttpAnswer = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

/** A JSON answer; every answer of the bridge is JSON. */
export function json(statusCode: number, body: Record<string, unknown>): HttpAnswer {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * The one mapper from errors to HTTP answers: exposable errors keep their message and details,
 * anything else becomes a generic 500 without message or stack (it is logged by the caller).
 */
export function errorAnswer(err: unknown): HttpAnswer {
  if (err instanceof BridgeError && err.expose) {
    return json(err.statusCode, {
      status: 'error',
      message: err.message,
      ...(err.details !== undefined ? { errors: err.details } : {}),
    });
  }
  return json(500, { status: 'error', message: 'Internal error' });
}
