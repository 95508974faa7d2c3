import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  type OutboundRequest,
  type RetryPolicy,
  sendWithRetries,
} from '../../functions/http/outbound';
import { fakeClock } from '../helpers/clock';

const POLICY: RetryPolicy = { attemptTimeoutMs: 1_000, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

function answers(...statuses: Array<number | [number, Record<string, string>]>): typeof fetch {
  let i = 0;
  return (async () => {
    const next = statuses[Math.min(i++, statuses.length - 1)] ?? 200;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    return new Response(status === 204 ? null : 'x', { status, headers });
  }) as typeof fetch;
}

function request(clock: { now(): number }, over: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    url: 'http://127.0.0.1:9/x',
    method: 'GET',
    headers: {},
    deadline: clock.now() + 10_000,
    repeatable: true,
    ...over,
  };
}

describe('backoffMs', () => {
  it('draws below a ceiling that doubles per retry up to the maximum', () => {
    expect(backoffMs(1, POLICY, () => 0.999)).toBe(99);
    expect(backoffMs(3, POLICY, () => 0.5)).toBe(200);
    expect(backoffMs(20, POLICY, () => 0.999)).toBe(999);
    expect(backoffMs(2, POLICY, () => 0)).toBe(0);
  });
});

describe('sendWithRetries', () => {
  it('waits the Retry-After seconds of a 429, then returns the success', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const result = await sendWithRetries(request(clock), POLICY, {
      fetch: answers([429, { 'retry-after': '3' }], 200),
      clock,
      random: () => 0.5,
    });
    expect(result).toMatchObject({ kind: 'answer', status: 200, attempts: 2 });
    expect(clock.waits).toEqual([3_000]);
  });

  it('reads Retry-After as an HTTP date against the injected clock', async () => {
    const clock = fakeClock(Date.parse('2027-01-15T10:00:00Z'));
    await sendWithRetries(request(clock), POLICY, {
      fetch: answers([503, { 'retry-after': 'Fri, 15 Jan 2027 10:00:02 GMT' }], 200),
      clock,
      random: () => 0.5,
    });
    expect(clock.waits).toEqual([2_000]);
  });

  it('stops at the attempt limit and says so', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const result = await sendWithRetries(request(clock), POLICY, {
      fetch: answers(500),
      clock,
      random: () => 1,
    });
    expect(result).toMatchObject({ kind: 'answer', status: 500, attempts: 4, gaveUp: 'attempts' });
    expect(clock.waits).toEqual([100, 200, 400]);
  });

  it('stops before a wait that would end past the deadline', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const result = await sendWithRetries(request(clock, { deadline: clock.now() + 5_000 }), POLICY, {
      fetch: answers([429, { 'retry-after': '60' }]),
      clock,
      random: () => 0,
    });
    expect(result).toMatchObject({
      kind: 'answer',
      status: 429,
      attempts: 1,
      gaveUp: 'deadline',
      retryAfterMs: 60_000,
    });
    expect(clock.waits).toEqual([]);
  });

  it('does not repeat a write that met a 5xx, but repeats one that met a 429', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const deps = { clock, random: () => 0 };
    const failed = await sendWithRetries(request(clock, { repeatable: false }), POLICY, {
      ...deps,
      fetch: answers(502, 201),
    });
    expect(failed).toMatchObject({ kind: 'answer', status: 502, attempts: 1 });
    expect(failed).not.toHaveProperty('gaveUp');
    const throttled = await sendWithRetries(request(clock, { repeatable: false }), POLICY, {
      ...deps,
      fetch: answers(429, 201),
    });
    expect(throttled).toMatchObject({ kind: 'answer', status: 201, attempts: 2 });
  });

  it('hands a redirect back without following it', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const result = await sendWithRetries(request(clock), POLICY, {
      fetch: answers([302, { location: 'http://127.0.0.1:9/elsewhere' }]),
      clock,
      random: () => 0,
    });
    expect(result).toMatchObject({ kind: 'answer', status: 302, attempts: 1 });
  });

  it('retries a refused connection even for a write: nothing reached the server', async () => {
    const clock = fakeClock(1_800_000_000_000);
    let calls = 0;
    const refusing = (async () => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return new Response('{}', { status: 201 });
    }) as typeof fetch;
    const result = await sendWithRetries(request(clock, { repeatable: false }), POLICY, {
      fetch: refusing,
      clock,
      random: () => 0,
    });
    expect(result).toMatchObject({ kind: 'answer', status: 201, attempts: 2 });
  });

  it('reports a broken connection on a write as possibly arrived, without repeating it', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const broken = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    }) as typeof fetch;
    const result = await sendWithRetries(request(clock, { repeatable: false }), POLICY, {
      fetch: broken,
      clock,
      random: () => 0,
    });
    expect(result).toEqual({
      kind: 'no-answer',
      reason: 'connection broken (ECONNRESET)',
      mayHaveArrived: true,
      attempts: 1,
    });
  });
});
