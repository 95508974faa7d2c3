import type { Clock } from '../../functions/clock/clock';

/** A clock that moves only when slept on, at once, recording each wait: nothing waits for real. */
export interface FakeClock extends Clock {
  waits: number[];
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
  };
}
