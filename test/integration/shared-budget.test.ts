import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../functions/clock/clock';
import { SharedBudget } from '../../functions/pacing/shared-budget';
import { type LocalStateStore, startLocalStateStore } from '../../infra/local/state-store';

/**
 * The rate budget shared by every process of a deployment, against a real DynamoDB-protocol server
 * (dynalite). Each "process" is its own SharedBudget (its own guess, its own queue), as separate
 * Lambda containers are. Time is a clock that only moves when a caller sleeps, so the slots
 * granted are exact and nothing depends on this machine's speed.
 */
let store: LocalStateStore;
let mod: typeof import('@aws-sdk/client-dynamodb');
beforeAll(async () => {
  store = await startLocalStateStore();
  mod = await import('@aws-sdk/client-dynamodb');
});
afterAll(async () => {
  await store?.close();
});

/**
 * A clock that stands still at T: every slot is computed against the same now, and `sleep(ms)`
 * records the slot it waits for (T + ms) instead of waiting. Exact, and independent of this
 * machine's speed.
 */
function frozenClock(): Clock & { slots: number[]; t: number } {
  const c = {
    t: 1_800_000_000_000,
    slots: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slots.push(c.t + ms);
    },
  };
  return c;
}

const budget = (tenant: string, clock: Clock, perSecond = 10) =>
  new SharedBudget({
    table: store.tableName,
    tenant,
    perSecond,
    clock,
    dynamo: async () => ({ client: store.client, mod }),
  });

describe('the shared rate budget', () => {
  it('never grants two slots closer than the interval, across many processes at once', async () => {
    const clock = frozenClock();
    const processes = Array.from({ length: 8 }, () => budget('many', clock));
    // Eight processes ask for ten slots each, all at once.
    const granted = await Promise.all(
      processes.map(async (p) => {
        let n = 0;
        for (let i = 0; i < 10; i++) if (await p.acquire(clock.t + 60_000)) n += 1;
        return n;
      }),
    );
    expect(granted).toEqual(Array(8).fill(10));
    // The first slot is now (no sleep); the 79 others are recorded by the clock.
    const slots = [clock.t, ...clock.slots].sort((a, b) => a - b);
    expect(slots).toHaveLength(80);
    for (let i = 1; i < slots.length; i++) {
      expect((slots[i] as number) - (slots[i - 1] as number)).toBe(110);
    }
    // At most 10 calls start in any second (ESET's limit); 110 ms apart it is 9.
    for (const s of slots) expect(slots.filter((t) => t >= s && t < s + 1000).length).toBeLessThanOrEqual(10);
  });

  it('costs one DynamoDB round trip per call for a process that is the only caller', async () => {
    const clock = frozenClock();
    const one = budget('alone', clock);
    for (let i = 0; i < 20; i++) expect(await one.acquire(clock.t + 60_000)).toBe(true);
    expect(one.roundTrips).toBe(20);
  });

  it('takes a slot that starts exactly now with one round trip (the guess and the condition agree)', async () => {
    const clock = frozenClock();
    const b = budget('edge', clock);
    await b.acquire(clock.t + 60_000);
    clock.t += 110; // the next slot starts now
    const trips = b.roundTrips;
    expect(await b.acquire(clock.t + 60_000)).toBe(true);
    expect(b.roundTrips - trips).toBe(1);
    expect(clock.slots).toEqual([]); // no wait
  });

  it('refuses a slot that comes after the deadline, and lets reads and the sync give way to changes', async () => {
    const clock = frozenClock();
    const b = budget('queue', clock);
    // A queue of 30 slots (3.3 s) for changes.
    for (let i = 0; i < 30; i++) await b.acquire(clock.t + 60_000, 'act');
    expect(await b.acquire(clock.t + 500, 'act')).toBe(false);
    expect(await b.acquire(clock.t + 60_000, 'read')).toBe(false);
    expect(await b.acquire(clock.t + 60_000, 'sync')).toBe(false);
    expect(await b.acquire(clock.t + 60_000, 'act')).toBe(true);
    // With the queue gone, a read gets a slot again.
    clock.t += 10_000;
    expect(await b.acquire(clock.t + 60_000, 'read')).toBe(true);
  });

  it('pauses every process after a 429: no slot before the pause ends', async () => {
    const clock = frozenClock();
    const a = budget('paused', clock);
    const b = budget('paused', clock);
    await a.acquire(clock.t + 1000);
    await a.pause(5_000);
    expect(await b.acquire(clock.t + 2_000)).toBe(false);
    expect(await b.acquire(clock.t + 10_000)).toBe(true);
    expect(clock.slots.at(-1)).toBe(clock.t + 5_000);
  });

  it("keeps tenants apart: one tenant's queue does not delay another's", async () => {
    const clock = frozenClock();
    const busy = budget('tenant-busy', clock);
    for (let i = 0; i < 50; i++) await busy.acquire(clock.t + 60_000);
    await busy.pause(60_000);
    const calm = budget('tenant-calm', clock);
    const before = clock.slots.length;
    expect(await calm.acquire(clock.t + 100)).toBe(true);
    expect(clock.slots).toHaveLength(before); // no wait at all
  });
});

describe('a slot reserved ahead (the receive path takes its close slot beside the record write)', () => {
  /** Until the reservation's update is on its way, its time read (the clock may move after that). */
  const taken = (b: SharedBudget, trips: number) => vi.waitFor(() => expect(b.roundTrips).toBe(trips));

  it('is the slot the next call uses: still one round trip for the call', async () => {
    const clock = frozenClock();
    const b = budget('reserve-used', clock);
    const reservedAt = clock.t;
    b.reserve(clock.t + 8_000);
    await taken(b, 1);
    clock.t += 5; // the record's write
    expect(await b.acquire(clock.t + 8_000)).toBe(true);
    expect(b.roundTrips).toBe(1);
    expect(b.reservedUsed).toBe(1);
    expect(clock.slots).toEqual([]); // its slot had come: no wait
    // The next process finds the slot taken: its own is one interval after the reserved one.
    const other = budget('reserve-used', clock);
    expect(await other.acquire(clock.t + 8_000)).toBe(true);
    expect(clock.slots).toEqual([reservedAt + 110]);
  });

  it('is not taken while the budget is busy, where an unused one would cost throughput', async () => {
    const clock = frozenClock();
    const b = budget('reserve-busy', clock);
    for (let i = 0; i < 3; i++) await b.acquire(clock.t + 8_000);
    const trips = b.roundTrips;
    b.reserve(clock.t + 8_000);
    // Give a reservation, had one started, time to reach DynamoDB.
    await new Promise((r) => setTimeout(r, 50));
    expect(b.roundTrips).toBe(trips);
    expect(await b.acquire(clock.t + 8_000)).toBe(true);
    expect(b.reservedUsed).toBe(0);
    expect(clock.slots.at(-1)).toBe(clock.t + 3 * 110);
  });

  it('goes unused when the call comes too late for it: a fresh slot, spaced after it', async () => {
    const clock = frozenClock();
    const b = budget('reserve-late', clock);
    const reservedAt = clock.t;
    b.reserve(clock.t + 8_000);
    await taken(b, 1);
    clock.t += 60; // past RESERVED_SLOT_MS: starting now would crowd the next slot
    expect(await b.acquire(clock.t + 8_000)).toBe(true);
    expect(b.reservedUsed).toBe(0);
    expect(b.roundTrips).toBe(2);
    // The fresh slot is one interval after the unused one, never closer.
    expect(clock.slots).toEqual([reservedAt + 110]);
  });

  it('is replaced when an earlier one went unused, not left to block the next reservation', async () => {
    const clock = frozenClock();
    const b = budget('reserve-stale', clock);
    b.reserve(clock.t + 8_000);
    await taken(b, 1);
    clock.t += 1_000; // the invocation needed no call; the next one comes a second later
    b.reserve(clock.t + 8_000);
    await taken(b, 2);
    clock.t += 5;
    expect(await b.acquire(clock.t + 8_000)).toBe(true);
    expect(b.reservedUsed).toBe(1);
    expect(b.roundTrips).toBe(2);
  });
});
