/**
 * Lambda events shaped exactly as AWS delivers them (Function URL payload v2, SQS batches), and
 * Standard Webhooks signed requests: used by the tests, the fuzzers and the benchmarks alike.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from 'aws-lambda';
import { sign } from '../../functions/auth/standard-webhooks';

export const TEST_WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A Lambda Function URL event (payload v2) as AWS delivers it: lower-cased headers, raw body. */
export function functionUrlEvent(opts: {
  body?: string;
  headers?: Record<string, string>;
  method?: string;
  path?: string;
  isBase64Encoded?: boolean;
}): APIGatewayProxyEventV2 {
  const now = new Date();
  const path = opts.path ?? '/';
  const headers = Object.fromEntries(
    Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abcdefghij.lambda-url.eu-central-1.on.aws', 'x-forwarded-proto': 'https', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.eu-central-1.on.aws',
      domainPrefix: 'abcdefghij',
      http: {
        method: opts.method ?? 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}

/** Standard Webhooks headers for a body. */
export function signedHeaders(
  body: string,
  opts: { secret?: string; id?: string; timestamp?: number } = {},
): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(opts.secret ?? TEST_WEBHOOK_SECRET, id, timestamp, body),
  };
}

/** A signed close request event for an incident. */
export function signedCloseEvent(
  incidentUuid: string,
  extra: {
    closureReason?: string;
    comment?: string;
    ticketId?: string;
    secret?: string;
    timestamp?: number;
  } = {},
): APIGatewayProxyEventV2 {
  const body = JSON.stringify({
    incidentUuid,
    closureReason: extra.closureReason ?? 'TRUE_POSITIVE',
    comment: extra.comment ?? 'Malware removed, host reimaged.',
    ticketId: extra.ticketId ?? 'SEC-4711',
  });
  return functionUrlEvent({
    body,
    headers: signedHeaders(body, {
      ...(extra.secret ? { secret: extra.secret } : {}),
      ...(extra.timestamp ? { timestamp: extra.timestamp } : {}),
    }),
  });
}

/** A signed canonical ticket event (close, reopen or comment) for an incident. */
export function signedTicketEvent(
  body: {
    action?: 'close' | 'reopen' | 'comment';
    incidentUuid: string;
    closureReason?: string;
    comment?: string;
    ticketId?: string;
    occurredAt?: string;
  },
  opts: { id?: string } = {},
): APIGatewayProxyEventV2 {
  const text = JSON.stringify(body);
  return functionUrlEvent({ body: text, headers: signedHeaders(text, opts.id ? { id: opts.id } : {}) });
}

/** An SQS event with one record per body, shaped as Lambda delivers it. */
export function sqsEvent(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map(
      (body, i): SQSRecord => ({
        messageId: `m-${i}-${randomUUID()}`,
        receiptHandle: `rh-${i}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:eset-close-bridge-retry',
        awsRegion: 'eu-central-1',
      }),
    ),
  };
}
