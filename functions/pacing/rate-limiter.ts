/**
 * Paces ESET calls from one process: at most `perSecond` calls start in any 1-second window
 * (a sliding window of start times, so the guarantee holds for every window, not just on
 * average). ESET allows 10 calls per second per credentials; a 429 pauses all callers.
 */
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

  /** No call starts before `ms` from now (after a 429, honouring Retry-After when given). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  private async takeSlot(deadline: number): Promise<boolean> {
    for (;;) {
      const now = this.clock.now();
      while (this.starts.length > 0 && (this.starts[0] ?? 0) <= now - 1000) this.starts.shift();
      let readyAt = now;
      if (this.starts.length >= this.perSecond) readyAt = (this.starts[0] ?? now) + 1000;
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
