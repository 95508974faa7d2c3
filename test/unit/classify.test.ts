import { describe, expect, it } from 'vitest';
import type { EsetAnswer } from '../../functions/eset/answer';
import { classifyChange, classifyRead } from '../../functions/outcomes/classify';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const res = (status: number, extra: Partial<Extract<EsetAnswer, { kind: 'response' }>> = {}): EsetAnswer => ({
  kind: 'response',
  status,
  latencyMs: 1,
  ...extra,
});

describe('classifyChange: the outcome table for close, reopen and comment', () => {
  it.each([
    ['200', res(200), false, { kind: 'applied' }],
    ['200 to a re-send', res(200), true, { kind: 'applied' }],
    ['202 + response-id', res(202, { responseId: 'r-1' }), false, { kind: 'pending', responseId: 'r-1' }],
    ['404 on a re-send', res(404), true, { kind: 'gone' }],
    ['400 on a re-send', res(400), true, { kind: 'gone' }],
    ['429', res(429), false, { kind: 'retry' }],
    ['503 (may have been applied)', res(503), false, { kind: 'unknown', settle: false }],
    ['500 (may have been applied)', res(500), false, { kind: 'unknown', settle: false }],
    ['502', res(502), false, { kind: 'unknown', settle: false }],
    ['504', res(504), false, { kind: 'unknown', settle: false }],
    ['408', res(408), false, { kind: 'unknown', settle: false }],
    ['401 after the refresh', res(401), false, { kind: 'retry', authFailure: true }],
    ['400 (maybe already in that state)', res(400), false, { kind: 'refused', status: 400 }],
    ['403', res(403), false, { kind: 'rejected', status: 403 }],
    ['404', res(404), false, { kind: 'rejected', status: 404 }],
  ] as const)('%s', (_name, answer, resend, expected) => {
    expect(classifyChange(answer, resend, NOW)).toMatchObject(expected);
  });

  it('treats a timeout as unknown, to be read after ESET settles', () => {
    expect(
      classifyChange({ kind: 'lost', reason: 'no answer within 8000 ms', latencyMs: 8000 }, false, NOW),
    ).toMatchObject({ kind: 'unknown', settle: true });
  });

  it('retries what never reached ESET', () => {
    expect(
      classifyChange(
        { kind: 'not-sent', reason: 'connection failed (ECONNREFUSED)', latencyMs: 1 },
        false,
        NOW,
      ),
    ).toMatchObject({ kind: 'retry' });
  });

  it('never takes a redirect for an answer: retry, with the reason', () => {
    expect(classifyChange(res(302, { location: 'https://login.example/' }), false, NOW)).toEqual({
      kind: 'retry',
      reason: 'ESET answered 302 (a redirect to https://login.example/, not followed)',
    });
  });

  it('honours Retry-After in seconds and as an HTTP date', () => {
    expect(classifyChange(res(429, { retryAfter: '7' }), false, NOW)).toMatchObject({ retryAfterMs: 7000 });
    const date = new Date(NOW + 30_000).toUTCString();
    expect(classifyChange(res(503, { retryAfter: date }), false, NOW)).toMatchObject({
      retryAfterMs: 30_000,
    });
  });

  it('keeps ESET reason in the rejection', () => {
    expect(classifyChange(res(403, { reason: 'Access denied' }), false, NOW)).toEqual({
      kind: 'rejected',
      status: 403,
      reason: 'ESET answered 403: Access denied',
    });
  });

  it('does not take a 202 without a usable response-id for success', () => {
    expect(classifyChange(res(202), false, NOW)).toMatchObject({ kind: 'unknown', settle: true });
    expect(classifyChange(res(202, { responseIdUnusable: true }), false, NOW)).toMatchObject({
      kind: 'unknown',
      settle: true,
      reason: 'ESET answered 202 with a response-id too long to re-send',
    });
  });
});

describe('classifyRead', () => {
  it('hands over the JSON of a 200', () => {
    const json = { incident: { status: 'INCIDENT_STATUS_CLOSED' } };
    expect(classifyRead(res(200, { json }), NOW)).toEqual({ kind: 'ok', json });
  });
  it('asks again after a 202, a 5xx, a redirect or a timeout', () => {
    for (const answer of [
      res(202),
      res(503),
      res(301),
      { kind: 'lost', reason: 'x', latencyMs: 1 } as const,
    ]) {
      expect(classifyRead(answer, NOW)).toMatchObject({ kind: 'retry' });
    }
  });
  it('rejects an unknown incident', () => {
    expect(classifyRead(res(404), NOW)).toMatchObject({ kind: 'rejected', status: 404 });
  });
});
