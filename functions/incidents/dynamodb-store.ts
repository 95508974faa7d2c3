import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadDynamo, VersionedItems } from '../aws/dynamodb';
import { type IncidentRecord, outstanding } from './record';
import { type IncidentStore, StoreUnavailableError, type Versioned } from './store';

/** A settled record is kept this long after its last change, then DynamoDB's TTL removes it. */
const SETTLED_TTL_SECONDS = 90 * 24 * 3600;

/**
 * Incident records in DynamoDB, one item each: `id` = `incident#<tenant>#<uuid>`, `rev` (the
 * revision every write is conditioned on), `doc` (the record as JSON) and, once nothing is
 * outstanding, `expiration` (TTL). The table is the bridge's state table (STATE_TABLE).
 */
export class DynamoIncidentStore implements IncidentStore {
  private loaded: ReturnType<typeof loadDynamo> | undefined;
  private readonly items: VersionedItems;

  constructor(
    private readonly opts: {
      table: string;
      endpoint?: string;
      client?: DynamoDBClient;
      /** A shared loader (the bridge's), instead of one of its own. */
      dynamo?: () => ReturnType<typeof loadDynamo>;
      now?: () => number;
    },
  ) {
    this.items = new VersionedItems({
      table: opts.table,
      load: () => this.load(),
      unavailable: (cause) => new StoreUnavailableError({ cause }),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  static id(tenant: string, incidentUuid: string): string {
    return `incident#${tenant}#${incidentUuid}`;
  }

  async get(tenant: string, incidentUuid: string): Promise<Versioned | undefined> {
    const got = await this.items.get(DynamoIncidentStore.id(tenant, incidentUuid));
    if (!got) return undefined;
    const rec = JSON.parse(got.text) as IncidentRecord;
    if (rec.v !== 1) throw new StoreUnavailableError({ cause: new Error('unknown incident record version') });
    return { rec, rev: got.rev };
  }

  async put(rec: IncidentRecord, rev: number): Promise<Versioned | undefined> {
    const settled = !outstanding(rec) && !rec.lease;
    const next = await this.items.put(
      DynamoIncidentStore.id(rec.tenant, rec.incidentUuid),
      JSON.stringify(rec),
      rev,
      settled ? SETTLED_TTL_SECONDS : undefined,
    );
    return next === undefined ? undefined : { rec, rev: next };
  }

  private load() {
    this.loaded ??= this.opts.dynamo?.() ?? loadDynamo(this.opts.endpoint, this.opts.client);
    return this.loaded;
  }
}
