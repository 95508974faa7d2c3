import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionUrlEvent, signedHeaders } from '../../infra/local/events';
import { queueDepth } from '../../infra/local/queues';
import { type Harness, startHarness } from '../helpers/harness';

const UUID = '123e4567-e89b-12d3-a456-426614174000';
const valid = {
  incidentUuid: UUID,
  closureReason: 'TRUE_POSITIVE',
  comment: 'Host reimaged.',
  ticketId: 'SEC-1',
};
const now = () => Math.floor(Date.now() / 1000);

/** A signed event for any body text (valid signature, so only the content is wrong). */
const signed = (body: string) => functionUrlEvent({ body, headers: signedHeaders(body) });
const signedJson = (value: unknown) => signed(JSON.stringify(value));
const withHeaders = (body: string, headers: Record<string, string>) => functionUrlEvent({ body, headers });

type Case = [
  name: string,
  event: () => APIGatewayProxyEventV2,
  status: number,
  expectInAnswer: string | RegExp,
];

const validBody = JSON.stringify(valid);
const cases: Case[] = [
  ['malformed JSON', () => signed('{"incidentUuid": '), 400, 'Body is not valid JSON'],
  ['a JSON array', () => signedJson([valid]), 400, '"path":"(body)"'],
  ['a JSON string', () => signedJson('close it'), 400, 'must be a JSON object'],
  ['JSON null', () => signed('null'), 400, 'must be a JSON object'],
  ['an empty body', () => signed(''), 400, 'Body is not valid JSON'],
  [
    'a missing incidentUuid',
    () => signedJson({ ...valid, incidentUuid: undefined }),
    400,
    '{"path":"incidentUuid","message":"is required"}',
  ],
  [
    'a numeric incidentUuid',
    () => signedJson({ ...valid, incidentUuid: 42 }),
    400,
    '{"path":"incidentUuid","message":"must be a string"}',
  ],
  [
    'a non-UUID incident id',
    () => signedJson({ ...valid, incidentUuid: 'INC-4711' }),
    400,
    '"path":"incidentUuid"',
  ],
  [
    'a path-traversal incident id',
    () => signedJson({ ...valid, incidentUuid: '../../v2/incidents/x' }),
    400,
    '"path":"incidentUuid"',
  ],
  [
    'an encoded path traversal',
    () => signedJson({ ...valid, incidentUuid: '%2e%2e%2f%2e%2e%2fincidents' }),
    400,
    '"path":"incidentUuid"',
  ],
  [
    'a UUID with a verb appended',
    () => signedJson({ ...valid, incidentUuid: `${UUID}:reopen` }),
    400,
    '"path":"incidentUuid"',
  ],
  [
    'a UUID with a trailing newline',
    () => signedJson({ ...valid, incidentUuid: `${UUID}\n` }),
    400,
    '"path":"incidentUuid"',
  ],
  [
    'an unknown closure reason',
    () => signedJson({ ...valid, closureReason: 'MALWARE' }),
    400,
    '"path":"closureReason"',
  ],
  [
    'a numeric closure reason',
    () => signedJson({ ...valid, closureReason: 2 }),
    400,
    '{"path":"closureReason","message":"must be a string"}',
  ],
  [
    'a missing comment',
    () => signedJson({ ...valid, comment: undefined }),
    400,
    '{"path":"comment","message":"is required"}',
  ],
  [
    'a blank comment',
    () => signedJson({ ...valid, comment: '   ' }),
    400,
    '{"path":"comment","message":"must not be empty"}',
  ],
  [
    'a comment over 10,000 characters',
    () => signedJson({ ...valid, comment: 'x'.repeat(10_001) }),
    400,
    '"path":"comment"',
  ],
  [
    'an object ticketId',
    () => signedJson({ ...valid, ticketId: { key: 'SEC-1' } }),
    400,
    '{"path":"ticketId","message":"must be a string"}',
  ],
  [
    'a body over 64 KiB',
    () => signedJson({ ...valid, comment: 'x'.repeat(70_000) }),
    413,
    'Body larger than 65536 bytes',
  ],
  [
    'a text/plain content type',
    () => withHeaders(validBody, { ...signedHeaders(validBody), 'content-type': 'text/plain' }),
    415,
    'Content-Type must be application/json',
  ],
  [
    'no content type',
    () => {
      const h = signedHeaders(validBody);
      delete (h as Record<string, string | undefined>)['content-type'];
      return withHeaders(validBody, h);
    },
    415,
    'Content-Type',
  ],
  [
    'form-encoded content',
    () =>
      withHeaders('incidentUuid=x', {
        ...signedHeaders('incidentUuid=x'),
        'content-type': 'application/x-www-form-urlencoded',
      }),
    415,
    'Content-Type',
  ],
  [
    'no signature headers',
    () => withHeaders(validBody, { 'content-type': 'application/json' }),
    401,
    'Missing signature header(s): webhook-id, webhook-timestamp, webhook-signature',
  ],
  [
    'a garbage signature',
    () => withHeaders(validBody, { ...signedHeaders(validBody), 'webhook-signature': 'v1,AAAA' }),
    401,
    'does not match',
  ],
  [
    'a signature without version',
    () =>
      withHeaders(validBody, {
        ...signedHeaders(validBody),
        'webhook-signature': 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      }),
    401,
    'no v1 signature',
  ],
  [
    'an expired timestamp',
    () => withHeaders(validBody, signedHeaders(validBody, { timestamp: now() - 600 })),
    401,
    'too old',
  ],
  [
    'a timestamp from the future',
    () => withHeaders(validBody, signedHeaders(validBody, { timestamp: now() + 600 })),
    401,
    'too far in the future',
  ],
  [
    'a tampered body',
    () => withHeaders(validBody.replace('TRUE', 'FALSE'), signedHeaders(validBody)),
    401,
    'does not match',
  ],
  [
    'a signature made with another secret',
    () => withHeaders(validBody, signedHeaders(validBody, { secret: 'whsec_b3RoZXItc2VjcmV0LXZhbHVl' })),
    401,
    'does not match',
  ],
  [
    'a signature for another webhook-id',
    () => withHeaders(validBody, { ...signedHeaders(validBody), 'webhook-id': 'msg_replayed' }),
    401,
    'does not match',
  ],
  [
    'a base64 body that is not UTF-8',
    () => {
      const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      return functionUrlEvent({
        body: raw.toString('base64'),
        isBase64Encoded: true,
        headers: signedHeaders(raw.toString('latin1')),
      });
    },
    400,
    'not valid UTF-8',
  ],
  ['a GET', () => functionUrlEvent({ method: 'GET', headers: signedHeaders('') }), 405, 'use POST'],
];

describe('bad input: a specific 4xx, and nothing reaches ESET or SQS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('has at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('answers %s with a clear 4xx', async (_name, event, status, expected) => {
    const answer = await h.receive(event());
    expect(answer.statusCode).toBe(status);
    expect(answer.headers?.['content-type']).toBe('application/json');
    const text = answer.body;
    if (typeof expected === 'string') expect(text).toContain(expected);
    else expect(text).toMatch(expected);
    expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)|stack/i);
    expect(JSON.parse(text)).toMatchObject({ status: 'error' });
  });

  it('recorded zero ESET calls, zero token requests and zero SQS messages', async () => {
    const state = h.sandbox.state();
    expect(state.calls).toHaveLength(0);
    expect(state.tokenRequests).toEqual({ password: 0, refresh: 0 });
    expect(await queueDepth(h.queues.sqs, h.queues.retryQueueUrl)).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
    });
    expect(await queueDepth(h.queues.sqs, h.queues.deadLetterQueueUrl)).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
    });
  });
});
