import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const isLoopback = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/**
 * A DynamoDB client, imported on first use (a cold start that only verifies a signature never
 * loads the SDK). `endpoint`: a DynamoDB-protocol server (dynalite locally); a loopback one gets
 * placeholder credentials, anything else the normal provider chain.
 */
export async function loadDynamo(
  endpoint?: string,
  ready?: DynamoDBClient,
): Promise<{
  client: DynamoDBClient;
  mod: typeof import('@aws-sdk/client-dynamodb');
}> {
  const mod = await import('@aws-sdk/client-dynamodb');
  if (ready) return { client: ready, mod };
  const client = new mod.DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'us-east-1',
          ...(isLoopback(endpoint)
            ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
            : {}),
        }
      : {},
  );
  return { client, mod };
}

type Loaded = Awaited<ReturnType<typeof loadDynamo>>;

/**
 * Versioned JSON items of the state table, as the incident records and the sync's items are kept:
 * `id`, `rev` (the revision every write is conditioned on: `attribute_not_exists(id)` for the
 * first, `rev = :rev` after), `doc` (the JSON text) and, where given, `expiration` (TTL).
 * Callers parse and check `doc` themselves; a failed read or write throws what `unavailable`
 * makes of the SDK's error, a lost race is `undefined`.
 */
export class VersionedItems {
  constructor(
    private readonly opts: {
      table: string;
      load: () => Promise<Loaded>;
      unavailable: (cause: unknown) => Error;
      now?: () => number;
    },
  ) {}

  /** The item's JSON text and revision, read consistently; undefined when there is none. */
  async get(id: string): Promise<{ text: string; rev: number } | undefined> {
    const { client, mod } = await this.opts.load();
    let item: Record<string, { S?: string; N?: string }> | undefined;
    try {
      const res = await client.send(
        new mod.GetItemCommand({ TableName: this.opts.table, Key: { id: { S: id } }, ConsistentRead: true }),
      );
      item = res.Item as typeof item;
    } catch (err) {
      throw this.opts.unavailable(err);
    }
    if (!item) return undefined;
    return { text: item.doc?.S ?? '{}', rev: Number(item.rev?.N ?? '0') };
  }

  /** Writes `text` if the stored revision is still `rev` (0: none yet): the new revision, or undefined. */
  async put(id: string, text: string, rev: number, ttlSeconds?: number): Promise<number | undefined> {
    const { client, mod } = await this.opts.load();
    const next = rev + 1;
    const item: Record<string, { S: string } | { N: string }> = {
      id: { S: id },
      rev: { N: String(next) },
      doc: { S: text },
    };
    if (ttlSeconds !== undefined) {
      const now = this.opts.now?.() ?? Date.now();
      item.expiration = { N: String(Math.floor(now / 1000) + ttlSeconds) };
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
      throw this.opts.unavailable(err);
    }
    return next;
  }
}
