/**
 * Paces ESET calls from one process: at most `perSecond` calls start in any window of
 * `windowMs` (a sliding window of start times, so the guarantee holds for every window, not just
 * on average). ESET allows 10 calls per second per credentials and counts them on arrival; the
 * window is a little longer than a second so that a first call delayed on its way (connection
 * setup, a busy event loop) does not arrive in the same second as the next round. A 429 pauses
 * all callers.
 */
export const DEFAULT_WINDOW_MS = 1050;

/**
 * The longest pause one 429 imposes on the whole process. The throttled close itself waits its
 * full Retry-After on the queue; a day-long Retry-After must not stop every other close.
 */
export const MAX_PAUSE_MS = 60_000;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RateLimiter {
  private readonly starts: number[] = [];
  private pausedUntil = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock = systemClock,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  /**
   * Resolves when a call may start. Returns false without waiting when the slot would come
   * after `deadline` (ms since epoch): the caller then keeps the work for later instead of
   * running past its own time budget.
   */
  acquire(deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    const turn = this.tail.then(() => this.takeSlot(deadline));
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /** No call starts before `ms` (at most MAX_PAUSE_MS) from now: after a 429, honouring Retry-After. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + Math.min(Math.max(0, ms), MAX_PAUSE_MS));
  }

  private async takeSlot(deadline: number): Promise<boolean> {
    for (;;) {
      const now = this.clock.now();
      while (this.starts.length > 0 && (this.starts[0] ?? 0) <= now - this.windowMs) this.starts.shift();
      let readyAt = now;
      if (this.starts.length >= this.perSecond) readyAt = (this.starts[0] ?? now) + this.windowMs;
      readyAt = Math.max(readyAt, this.pausedUntil);
      if (readyAt > deadline) return false;
      if (readyAt <= now) {
        this.starts.push(now);
        return true;
      }
      await this.clock.sleep(readyAt - now);
    }
  }
}
