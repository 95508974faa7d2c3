import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bundles, buildBundles } from '../../scripts/bench/build';
import { measureColdInit } from '../../scripts/bench/cold-init';
import { measureDrain } from '../../scripts/bench/drain';
import { measureTokens } from '../../scripts/bench/tokens';
import { measureWarm } from '../../scripts/bench/warm';

/**
 * A tiny run of every benchmark, so `npm run bench` keeps working as the code changes. It checks
 * that each measurement runs and measures what it says, not the figures (they depend on the machine).
 */
let bundles: Bundles;
beforeAll(async () => {
  bundles = await buildBundles();
}, 60_000);
afterAll(async () => {
  await bundles?.remove();
});

describe('the benchmarks', () => {
  it('bundles both Lambdas and imports each in a fresh process', () => {
    // Act
    const cold = measureColdInit(bundles, 1);

    // Assess
    expect(bundles.receive.bytes).toBeGreaterThan(1000);
    expect(bundles.retryWithSdk.bytes).toBeGreaterThan(bundles.retry.bytes);
    for (const ms of [cold.emptyMs, cold.receiveMs, cold.retryMs]) expect(Number.isFinite(ms)).toBe(true);
  });

  it('times warm closes of the bundled receive Lambda against the loopback ESET', async () => {
    // Act
    const warm = await measureWarm(bundles, { rounds: 1, warmupRounds: 0 });

    // Assess
    expect(warm.statuses).toEqual({ 200: 9 });
    expect(warm.ratio).toBeGreaterThan(0);
  });

  it('counts token requests while closes run at once on a cold client', async () => {
    // Act
    const tokens = await measureTokens(20);

    // Assess
    expect(tokens.tokenRequests).toBe(1);
    expect(tokens.statuses[200]).toBeGreaterThan(0);
  });

  it('drains queued closes through the bundled retry Lambda, each closed exactly once', async () => {
    // Act
    const drain = await measureDrain(bundles, { closes: 20, rate: 10, pollers: 2 });

    // Assess
    expect(drain.closedOnce).toBe(20);
    expect(drain.closedTwice).toBe(0);
    expect(drain.deadLettered).toBe(0);
    expect(drain.peakRssMb).toBeGreaterThan(drain.idleRssMb * 0.5);
  });
});
