import { describe, expect, it } from 'vitest';
import type { EsetAnswer } from '../../functions/eset/answer';
import { classifyClose, classifyRead } from '../../functions/outcomes/classify';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const res = (status: number, extra: Partial<Extract<EsetAnswer, { kind: 'response' }>> = {}): EsetAnswer => ({
  kind: 'response',
  status,
  latencyMs: 1,
  ...extra,
});

describe('classifyClose: the outcome table', () => {
  it.each([
    ['200', res(200), 'close', { kind: 'closed', how: 'closed' }],
    ['200 to a re-send', res(200), 'resend', { kind: 'closed', how: 'retrieved' }],
    ['202 + response-id', res(202, { responseId: 'r-1' }), 'close', { kind: 'pending', responseId: 'r-1' }],
    ['404 on a re-send', res(404), 'resend', { kind: 'unknown', settle: false }],
    ['429', res(429), 'close', { kind: 'retry' }],
    ['503', res(503), 'close', { kind: 'retry' }],
    ['500', res(500), 'close', { kind: 'retry' }],
    ['502', res(502), 'close', { kind: 'retry' }],
    ['504', res(504), 'close', { kind: 'retry' }],
    ['401 after the refresh', res(401), 'close', { kind: 'retry', authFailure: true }],
    ['400 on close', res(400), 'close', { kind: 'unknown', settle: false }],
    ['403', res(403), 'close', { kind: 'rejected', status: 403 }],
    ['404 on close', res(404), 'close', { kind: 'rejected', status: 404 }],
  ] as const)('%s', (_name, answer, call, expected) => {
    expect(classifyClose(answer, call, NOW)).toMatchObject(expected);
  });

  it('treats a timeout as unknown, to be read after ESET settles', () => {
    expect(
      classifyClose({ kind: 'lost', reason: 'no answer within 8000 ms', latencyMs: 8000 }, 'close', NOW),
    ).toMatchObject({
      kind: 'unknown',
      settle: true,
    });
  });

  it('retries what never reached ESET', () => {
    expect(
      classifyClose(
        { kind: 'not-sent', reason: 'connection failed (ECONNREFUSED)', latencyMs: 1 },
        'close',
        NOW,
      ),
    ).toMatchObject({
      kind: 'retry',
    });
  });

  it('honours Retry-After in seconds and as an HTTP date', () => {
    expect(classifyClose(res(429, { retryAfter: '7' }), 'close', NOW)).toMatchObject({ retryAfterMs: 7000 });
    const date = new Date(NOW + 30_000).toUTCString();
    expect(classifyClose(res(503, { retryAfter: date }), 'close', NOW)).toMatchObject({
      retryAfterMs: 30_000,
    });
  });

  it('keeps ESET reason in the rejection', () => {
    expect(classifyClose(res(403, { reason: 'Access denied' }), 'close', NOW)).toEqual({
      kind: 'rejected',
      status: 403,
      reason: 'ESET answered 403: Access denied',
    });
  });

  it('does not take a 202 without response-id for success', () => {
    expect(classifyClose(res(202), 'close', NOW)).toMatchObject({ kind: 'unknown', settle: true });
  });
});

describe('classifyRead', () => {
  it('sees a closed incident', () => {
    expect(classifyRead(res(200, { json: { incident: { status: 'INCIDENT_STATUS_CLOSED' } } }), NOW)).toEqual(
      {
        kind: 'state',
        closed: true,
        status: 'INCIDENT_STATUS_CLOSED',
      },
    );
  });
  it('sees an open incident', () => {
    expect(
      classifyRead(res(200, { json: { incident: { status: 'INCIDENT_STATUS_OPEN' } } }), NOW),
    ).toMatchObject({ closed: false });
  });
  it('retries a 200 it cannot read', () => {
    expect(classifyRead(res(200, { json: { something: 1 } }), NOW)).toMatchObject({ kind: 'retry' });
  });
  it('rejects an unknown incident', () => {
    expect(classifyRead(res(404), NOW)).toMatchObject({ kind: 'rejected', status: 404 });
  });
  it('retries a timeout', () => {
    expect(classifyRead({ kind: 'lost', reason: 'x', latencyMs: 1 }, NOW)).toMatchObject({ kind: 'retry' });
  });
});
