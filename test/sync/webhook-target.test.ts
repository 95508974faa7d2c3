import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verify } from '../../functions/auth/standard-webhooks';
import {
  type SyncEvent,
  WebhookTarget,
  type WebhookTargetOptions,
} from '../../functions/sync/webhook-target';
import { type FakeClock, fakeClock } from '../helpers/clock';
import { type Received, type Receiver, type Reply, startReceiver } from '../helpers/receiver';

// Secret from the Standard Webhooks project's published test vectors.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const EVENT: SyncEvent = {
  id: 'evt_incident_123e4567_closed_1',
  type: 'incident.closed',
  occurredAt: Date.parse('2027-03-01T08:59:30.250Z'),
  data: {
    incidentUuid: '123e4567-e89b-12d3-a456-426614174000',
    closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  },
};

let receiver: Receiver | undefined;
let clock: FakeClock;

beforeEach(() => {
  clock = fakeClock(Date.parse('2027-03-01T09:00:00Z'));
});

afterEach(async () => {
  vi.useRealTimers();
  await receiver?.close();
  receiver = undefined;
});

async function target(reply?: (r: Received, i: number) => Reply, over: Partial<WebhookTargetOptions> = {}) {
  receiver = await startReceiver(reply);
  return new WebhookTarget({
    url: `${receiver.url}/hooks/eset`,
    secret: SECRET,
    clock,
    random: () => 0.5,
    ...over,
  });
}

/** Checks a received request the way a Standard Webhooks receiver does; throws when it fails. */
function verified(r: Received, nowSeconds = Math.floor(clock.now() / 1000)): void {
  verify(
    [SECRET],
    {
      id: r.headers['webhook-id'] as string,
      timestamp: r.headers['webhook-timestamp'] as string,
      signature: r.headers['webhook-signature'] as string,
    },
    r.body,
    nowSeconds,
    300,
  );
}

describe('WebhookTarget', () => {
  it('posts a signed Standard Webhooks event with type, timestamp and data', async () => {
    const hook = await target();

    const result = await hook.send(EVENT);

    expect(result).toEqual({ kind: 'delivered', status: 200, attempts: 1 });
    const [request] = receiver?.received ?? [];
    expect(request).toBeDefined();
    expect(() => verified(request as Received)).not.toThrow();
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['webhook-id']).toBe(EVENT.id);
    expect(request?.headers['webhook-timestamp']).toBe(String(clock.now() / 1000));
    expect(JSON.parse(request?.body ?? '')).toEqual({
      type: 'incident.closed',
      timestamp: '2027-03-01T08:59:30.250Z',
      data: EVENT.data,
    });
  });

  it('retries a 503 with the same id and body, each attempt signed afresh', async () => {
    const hook = await target((_r, i) => ({ status: i === 0 ? 503 : 204 }), {
      retry: { baseDelayMs: 4_000 },
    });

    const result = await hook.send(EVENT);

    expect(result).toEqual({ kind: 'delivered', status: 204, attempts: 2 });
    const [first, second] = receiver?.received ?? [];
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
    expect(Number(second?.headers['webhook-timestamp'])).toBe(
      Number(first?.headers['webhook-timestamp']) + 2,
    );
    expect(() => verified(second as Received)).not.toThrow();
    expect(clock.waits).toEqual([2_000]);
  });

  it("waits a 429's Retry-After before the next attempt", async () => {
    const hook = await target((_r, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '5' } } : { status: 200 },
    );

    expect(await hook.send(EVENT)).toMatchObject({ kind: 'delivered', attempts: 2 });
    expect(clock.waits).toEqual([5_000]);
  });

  it('stops when the receiver answers 410 Gone', async () => {
    const hook = await target(() => ({ status: 410 }));

    expect(await hook.send(EVENT)).toEqual({ kind: 'stop', status: 410, attempts: 1 });
    expect(receiver?.received).toHaveLength(1);
  });

  it('does not repeat a refusal that retrying cannot change', async () => {
    const hook = await target(() => ({ status: 400 }));

    expect(await hook.send(EVENT)).toEqual({
      kind: 'rejected',
      status: 400,
      reason: 'HTTP 400',
      attempts: 1,
    });
  });

  it('never follows a redirect', async () => {
    const elsewhere = await startReceiver();
    const hook = await target(() => ({ status: 308, headers: { location: `${elsewhere.url}/x` } }));

    const result = await hook.send(EVENT);
    await elsewhere.close();

    expect(result).toMatchObject({ kind: 'rejected', status: 308, reason: 'redirects are not followed' });
    expect(elsewhere.received).toEqual([]);
  });

  it('gives up on a failing receiver within the deadline, for the caller to send the event again', async () => {
    const hook = await target(() => ({ status: 502 }));
    const start = clock.now();

    const result = await hook.send(EVENT, { deadline: start + 2_500 });

    expect(result).toMatchObject({ kind: 'failed', status: 502 });
    expect(clock.now()).toBeLessThan(start + 2_500);
    expect(receiver?.received.length).toBe(result.attempts);
  });

  it('retries a receiver that does not answer in time', async () => {
    // Prepare: the attempt timeout is a timer the test moves, so only the hanging first request
    // meets it; the second is answered however slowly this machine runs.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const hook = await target((_r, i) => (i === 0 ? { status: 200, hang: true } : { status: 200 }), {
      retry: { attemptTimeoutMs: 50 },
    });

    // Act
    const sent = hook.send(EVENT);
    while (receiver?.received.length !== 1) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(50);

    // Assess
    expect(await sent).toEqual({ kind: 'delivered', status: 200, attempts: 2 });
    expect(new Set(receiver?.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([EVENT.id]));
  });

  it('refuses an event id receivers could not take, a plain-http remote URL and a secret that is no key', async () => {
    const hook = await target();
    await expect(hook.send({ ...EVENT, id: 'has space' })).rejects.toThrow(TypeError);
    await expect(hook.send({ ...EVENT, id: 'x'.repeat(257) })).rejects.toThrow(TypeError);
    expect(receiver?.received).toEqual([]);
    expect(() => new WebhookTarget({ url: 'http://hooks.example.com/x', secret: SECRET })).toThrow(/https/);
    expect(() => new WebhookTarget({ url: 'https://hooks.example.com/x', secret: 'whsec_' })).toThrow();
  });
});
