import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadDynamo, VersionedItems } from '../aws/dynamodb';
import { StoreUnavailableError } from '../incidents/store';

/**
 * The sync's own items in the state table (STATE_TABLE), beside the incident records and written
 * the same way: `id`, `rev` (every write is conditioned on it), `doc` (JSON) and, where given,
 * `expiration` (TTL). Only GetItem and PutItem, so the sync needs no other table permission.
 * - `sync#<tenant>#watermark`: how far the sync has read ESET's incident list, and what it learnt
 *   about the bridge's own accounts;
 * - `link#<tenant>#<uuid>`: the ticket of one incident and what was mirrored into it;
 * - `sync#<tenant>#notices`: closes the bridge could not carry out, waiting to be told to the ticket.
 */
export interface DocStore {
  get<T>(id: string): Promise<{ doc: T; rev: number } | undefined>;
  /** Writes only if the stored revision is still `rev` (0: none yet); the new revision, or undefined when someone else wrote first. */
  put<T>(id: string, doc: T, rev: number, opts?: { ttlSeconds?: number }): Promise<number | undefined>;
}

export const syncIds = {
  watermark: (tenant: string) => `sync#${tenant}#watermark`,
  notices: (tenant: string) => `sync#${tenant}#notices`,
  link: (tenant: string, incidentUuid: string) => `link#${tenant}#${incidentUuid}`,
};

export class DynamoDocStore implements DocStore {
  private loaded: ReturnType<typeof loadDynamo> | undefined;
  private readonly items: VersionedItems;

  constructor(
    private readonly opts: { table: string; endpoint?: string; client?: DynamoDBClient; now?: () => number },
  ) {
    this.items = new VersionedItems({
      table: opts.table,
      load: () => this.load(),
      unavailable: (cause) => new StoreUnavailableError({ cause }),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  async get<T>(id: string): Promise<{ doc: T; rev: number } | undefined> {
    const got = await this.items.get(id);
    if (!got) return undefined;
    try {
      return { doc: JSON.parse(got.text) as T, rev: got.rev };
    } catch (err) {
      throw new StoreUnavailableError({ cause: err });
    }
  }

  put<T>(id: string, doc: T, rev: number, opts: { ttlSeconds?: number } = {}): Promise<number | undefined> {
    return this.items.put(id, JSON.stringify(doc), rev, opts.ttlSeconds);
  }

  private load() {
    this.loaded ??= loadDynamo(this.opts.endpoint).then((l) =>
      this.opts.client ? { ...l, client: this.opts.client } : l,
    );
    return this.loaded;
  }
}

/**
 * Read, change, write if unchanged, as `updateRecord` does for incident records: on a lost race
 * the item is read again and `change` re-applied. `change` returns the new document, or undefined
 * to write nothing. Resolves to the document as stored.
 */
export async function updateDoc<T>(
  store: DocStore,
  id: string,
  change: (doc: T | undefined) => T | undefined,
  opts: { ttlSeconds?: number; cached?: { doc: T; rev: number } } = {},
): Promise<{ doc: T; rev: number } | undefined> {
  let current = opts.cached ?? (await store.get<T>(id));
  for (let i = 0; i < 8; i++) {
    const next = change(current ? structuredClone(current.doc) : undefined);
    if (next === undefined) return current;
    const rev = await store.put(id, next, current?.rev ?? 0, opts);
    if (rev !== undefined) return { doc: next, rev };
    current = await store.get<T>(id);
  }
  throw new StoreUnavailableError({ cause: new Error(`${id} kept changing under the sync`) });
}
