import { type Clock, systemClock } from '../clock/clock';
import type { Pacer } from './pacer';

/**
 * Paces ESET calls from one process: call starts are spaced evenly, `windowMs / perSecond` apart,
 * so at most `perSecond` start in any window of `windowMs`. ESET allows 10 calls per second per API
 * user and counts them on arrival; even spacing (rather than a burst and a pause) means a call
 * delayed on its way (connection setup, a busy event loop) can only meet its one neighbour, not a
 * whole second round; the window is a little longer than a second for the same reason. A 429
 * pauses all callers.
 */
export const DEFAULT_WINDOW_MS = 1050;

/**
 * The longest pause one 429 imposes on the whole process. The throttled work itself waits its
 * full Retry-After on the queue; a day-long Retry-After must not stop every other call.
 */
export const MAX_PAUSE_MS = 60_000;

export class RateLimiter implements Pacer {
  /** The earliest start of the next call. */
  private next = 0;
  private pausedUntil = 0;
  private readonly intervalMs: number;
  /** Callers take their turns in order (first come, first served). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    perSecond: number,
    private readonly clock: Clock = systemClock,
    windowMs = DEFAULT_WINDOW_MS,
  ) {
    this.intervalMs = windowMs / perSecond;
  }

  /**
   * Resolves when a call may start. Returns false without waiting when the slot would come
   * after `deadline` (ms since epoch): the caller then keeps the work for later instead of
   * running past its own time budget.
   */
  acquire(deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    const turn = this.tail.then(() => this.takeSlot(deadline));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async takeSlot(deadline: number): Promise<boolean> {
    const now = this.clock.now();
    const at = Math.max(now, this.next, this.pausedUntil);
    if (at > deadline) return false;
    this.next = at + this.intervalMs;
    if (at > now) await this.clock.sleep(at - now);
    // A busy process wakes late: the next slot counts from when this call really starts, so the
    // calls behind it cannot bunch up with it.
    this.next = Math.max(this.next, this.clock.now() + this.intervalMs);
    return true;
  }

  /** No call starts before `ms` (at most MAX_PAUSE_MS) from now: after a 429, honouring Retry-After. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + Math.min(Math.max(0, ms), MAX_PAUSE_MS));
  }
}
