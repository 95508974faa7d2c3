import { describe, expect, it } from 'vitest';
import { newRecord } from '../../functions/incidents/record';
import { type IncidentStore, StoreConflictError, updateRecord } from '../../functions/incidents/store';
import { MemoryIncidentStore } from '../../infra/local/memory-store';

const UUID = '123e4567-e89b-12d3-a456-426614174000';

/** The memory store, counting its calls: the round trips DynamoDB would see. */
function countingStore() {
  const inner = new MemoryIncidentStore();
  const calls: string[] = [];
  const store: IncidentStore = {
    get: (t, u) => {
      calls.push('get');
      return inner.get(t, u);
    },
    put: async (rec, rev) => {
      const written = await inner.put(rec, rev);
      calls.push(written ? 'put' : 'put refused');
      return written;
    },
  };
  return { inner, store, calls };
}

describe('updateRecord', () => {
  it('creates a record it guessed absent with one write and no read', async () => {
    const { store, calls } = countingStore();

    const saved = await updateRecord(store, 't', UUID, (r) => r ?? newRecord('t', UUID, 0), 'absent');

    expect(saved?.rev).toBe(1);
    expect(calls).toEqual(['put']);
  });

  it('reads and applies the change to the existing record when the guess was wrong', async () => {
    const { inner, store, calls } = countingStore();
    const existing = newRecord('t', UUID, 0);
    existing.seq = 7;
    await inner.put(existing, 0);

    const saved = await updateRecord(
      store,
      't',
      UUID,
      (r) => {
        const rec = r ?? newRecord('t', UUID, 0);
        rec.seq += 1;
        return rec;
      },
      'absent',
    );

    expect(saved).toMatchObject({ rev: 2, rec: { seq: 8 } });
    expect(calls).toEqual(['put refused', 'get', 'put']);
  });

  it('answers the stored record, read, when a guessed change has nothing to write', async () => {
    const { inner, store, calls } = countingStore();
    const existing = newRecord('t', UUID, 0);
    existing.seq = 3;
    await inner.put(existing, 0);

    const saved = await updateRecord(store, 't', UUID, () => undefined, 'absent');

    expect(saved).toMatchObject({ rev: 1, rec: { seq: 3 } });
    expect(calls).toEqual(['get']);
  });

  it('reads first without a guess, and gives up after eight lost races', async () => {
    const { store, calls } = countingStore();
    const always: IncidentStore = { get: store.get, put: async () => undefined };

    await expect(updateRecord(always, 't', UUID, (r) => r ?? newRecord('t', UUID, 0))).rejects.toBeInstanceOf(
      StoreConflictError,
    );
    expect(calls.filter((c) => c === 'get')).toHaveLength(9);
  });
});
