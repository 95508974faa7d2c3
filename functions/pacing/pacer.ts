/**
 * Paces ESET calls under ESET's limit of 10 calls per second per API user. The in-process
 * RateLimiter is one implementation; a budget shared by every process is another.
 */
export interface Pacer {
  /**
   * Resolves true when a call may start, false (without waiting) when no slot comes before
   * `deadline` (ms since epoch): the caller then keeps the work for later. Calls that change an
   * incident (`act`) go before reads and the sync.
   */
  acquire(deadline: number, priority?: 'act' | 'read' | 'sync'): Promise<boolean>;
  /**
   * Optional: starts taking a slot for a call this process is about to make (the next `acquire`
   * uses it), so that the slot's round trip runs beside other work instead of after it.
   */
  reserve?(deadline: number): void;
  /** ESET answered 429: no call starts before `ms` from now, honouring Retry-After. */
  pause(ms: number): void;
}
