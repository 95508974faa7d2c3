import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadDynamo } from '../aws/dynamodb';
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

  constructor(
    private readonly opts: {
      table: string;
      endpoint?: string;
      client?: DynamoDBClient;
      /** A shared loader (the bridge's), instead of one of its own. */
      dynamo?: () => ReturnType<typeof loadDynamo>;
      now?: () => number;
    },
  ) {}

  static id(tenant: string, incidentUuid: string): string {
    return `incident#${tenant}#${incidentUuid}`;
  }

  async get(tenant: string, incidentUuid: string): Promise<Versioned | undefined> {
    const { client, mod } = await this.load();
    let item: Record<string, { S?: string; N?: string }> | undefined;
    try {
      const res = await client.send(
        new mod.GetItemCommand({
          TableName: this.opts.table,
          Key: { id: { S: DynamoIncidentStore.id(tenant, incidentUuid) } },
          ConsistentRead: true,
        }),
      );
      item = res.Item as typeof item;
    } catch (err) {
      throw new StoreUnavailableError({ cause: err });
    }
    if (!item) return undefined;
    const rev = Number(item.rev?.N ?? '0');
    const rec = JSON.parse(item.doc?.S ?? '{}') as IncidentRecord;
    if (rec.v !== 1) throw new StoreUnavailableError({ cause: new Error('unknown incident record version') });
    return { rec, rev };
  }

  async put(rec: IncidentRecord, rev: number): Promise<Versioned | undefined> {
    const { client, mod } = await this.load();
    const next = rev + 1;
    const now = this.opts.now?.() ?? Date.now();
    const item: Record<string, { S: string } | { N: string }> = {
      id: { S: DynamoIncidentStore.id(rec.tenant, rec.incidentUuid) },
      rev: { N: String(next) },
      doc: { S: JSON.stringify(rec) },
    };
    if (!outstanding(rec) && !rec.lease) {
      item.expiration = { N: String(Math.floor(now / 1000) + SETTLED_TTL_SECONDS) };
    }
    try {
      await client.send(
        new mod.PutItemCommand({
          TableName: this.opts.table,
          Item: item,
          ConditionExpression: rev === 0 ? 'attribute_not_exists(id)' : 'rev = :rev',
          ...(rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': { N: String(rev) } } }),
        }),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return undefined;
      throw new StoreUnavailableError({ cause: err });
    }
    return { rec, rev: next };
  }

  private load() {
    this.loaded ??= this.opts.dynamo?.() ?? loadDynamo(this.opts.endpoint, this.opts.client);
    return this.loaded;
  }
}
