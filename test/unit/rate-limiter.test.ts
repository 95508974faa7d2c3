import { describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/clock/clock';
import { RateLimiter } from '../../functions/pacing/rate-limiter';

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 1_000_000,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('RateLimiter', () => {
  it('spaces call starts evenly, at most N in any one-second window', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(4, clock, 1000);
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await limiter.acquire();
        starts.push(clock.t);
      }),
    );
    expect(starts).toHaveLength(20);
    for (const s of starts) {
      expect(starts.filter((t) => t >= s && t < s + 1000).length).toBeLessThanOrEqual(4);
    }
    // Evenly spaced, 250 ms apart: never a burst of four followed by a pause.
    expect(starts.slice(0, 4)).toEqual([1_000_000, 1_000_250, 1_000_500, 1_000_750]);
    expect(starts.at(-1)).toBe(1_000_000 + 19 * 250);
  });

  it('keeps a safety margin over one second by default', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(2, clock);
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(clock.t).toBe(1_000_000 + 1050);
  });

  it('refuses to wait past the deadline', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(1, clock);
    expect(await limiter.acquire(clock.t + 100)).toBe(true);
    expect(await limiter.acquire(clock.t + 100)).toBe(false);
  });

  it('pauses every caller after a 429', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock);
    limiter.pause(3000);
    await limiter.acquire();
    expect(clock.t).toBe(1_003_000);
  });
});
