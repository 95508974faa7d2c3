import type { IncidentRecord } from '../../functions/incidents/record';
import type { IncidentStore, Versioned } from '../../functions/incidents/store';

/**
 * An in-memory IncidentStore with the same conditional-write contract as the DynamoDB one (a write
 * succeeds only at the revision it read). For the fuzzers, which run thousands of cases and test
 * the boundaries, not the store; everything that tests the store uses dynalite.
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly items = new Map<string, Versioned>();

  async get(tenant: string, incidentUuid: string): Promise<Versioned | undefined> {
    const v = this.items.get(`${tenant}#${incidentUuid}`);
    return v ? structuredClone(v) : undefined;
  }

  async put(rec: IncidentRecord, rev: number): Promise<Versioned | undefined> {
    const key = `${rec.tenant}#${rec.incidentUuid}`;
    const current = this.items.get(key)?.rev ?? 0;
    if (current !== rev) return undefined;
    const next = { rec: structuredClone(rec), rev: rev + 1 };
    this.items.set(key, next);
    return structuredClone(next);
  }
}
