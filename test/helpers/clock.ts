import type { Clock } from '../../functions/clock/clock';

/** A clock that moves only when slept on or moved by hand, at once, recording each wait: nothing waits for real. */
export interface FakeClock extends Clock {
  waits: number[];
  /** Moves the clock on by `ms`. */
  advance(ms: number): void;
  /** Sets the clock to `at` (ms since epoch). */
  set(at: number): void;
}

export function fakeClock(start: number): FakeClock {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
    set: (at) => {
      now = at;
    },
  };
}
