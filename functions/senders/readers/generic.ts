import type { Reader } from './reading';

/**
 * A generic JSON sender has no reading of its own: the route's `resolvedWhen`, `reopenedWhen`
 * and `commentedWhen` decide, and the adapter engine checks them before asking the reader.
 */
export const genericReader: Reader = {
  view: (body) => body,
  read: () => ({ kind: 'skip', reason: 'none of resolvedWhen, reopenedWhen, commentedWhen holds' }),
};
