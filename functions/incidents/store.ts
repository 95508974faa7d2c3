import { BridgeError } from '../errors/errors';
import type { IncidentRecord } from './record';

/** A record as stored, with the revision every conditional write compares. */
export interface Versioned {
  rec: IncidentRecord;
  rev: number;
}

/** Where the per-incident records live (DynamoDB: dynamodb-store.ts). */
export interface IncidentStore {
  get(tenant: string, incidentUuid: string): Promise<Versioned | undefined>;
  /**
   * Writes `rec` only if the stored revision is still `rev` (0: no record yet). Resolves to the
   * new version, or undefined when someone else wrote first.
   */
  put(rec: IncidentRecord, rev: number): Promise<Versioned | undefined>;
}

/** The store could not be read or written: the sender retries (503), the retry Lambda later. */
export class StoreUnavailableError extends BridgeError {
  override name = 'StoreUnavailableError';
  constructor(opts: { cause?: unknown } = {}) {
    super('The incident store is unavailable; please retry later', {
      statusCode: 503,
      expose: true,
      ...opts,
    });
  }
}

/** Conditional writes kept losing (heavy contention on one incident). */
export class StoreConflictError extends BridgeError {
  override name = 'StoreConflictError';
  constructor() {
    super('The incident is being changed by many requests at once; please retry later', {
      statusCode: 503,
      expose: true,
    });
  }
}

const MAX_TRIES = 8;

/**
 * Read, change, write if unchanged; on a lost race read again and re-apply `change` (which must be
 * a function of the record alone). `change` returns the new record, or undefined to write nothing.
 * `cached` saves the first read when the caller holds the latest version; `'absent'` saves it when
 * the caller expects no record yet (a ticket's first close): the write is then conditioned on no
 * item, and a record that does exist costs that one refused write before the read.
 */
export async function updateRecord(
  store: IncidentStore,
  tenant: string,
  incidentUuid: string,
  change: (rec: IncidentRecord | undefined) => IncidentRecord | undefined,
  cached?: Versioned | 'absent',
): Promise<Versioned | undefined> {
  let guessed = cached === 'absent';
  let current = cached === 'absent' ? undefined : (cached ?? (await store.get(tenant, incidentUuid)));
  for (let i = 0; i < MAX_TRIES; i++) {
    const next = change(current ? structuredClone(current.rec) : undefined);
    if (!next && guessed) {
      // Nothing to write on a guess: the caller is owed the record as it is.
      guessed = false;
      current = await store.get(tenant, incidentUuid);
      i--;
      continue;
    }
    if (!next) return current;
    guessed = false;
    const written = await store.put(next, current?.rev ?? 0);
    if (written) return written;
    current = await store.get(tenant, incidentUuid);
  }
  throw new StoreConflictError();
}
