/**
 * A real DynamoDB-protocol server (dynalite, in memory, on 127.0.0.1) with the bridge's state
 * table (incident records), for tests and the local runtime (`npm start`). Development only: no
 * Lambda entry imports it, and dynalite is a devDependency.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface LocalStateStore {
  /** `AWS_ENDPOINT_URL_DYNAMODB` for the bridge. */
  endpoint: string;
  /** `STATE_TABLE` for the bridge. */
  tableName: string;
  /** A client for that endpoint (placeholder credentials, which dynalite ignores). */
  client: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * Starts dynalite and creates the table as the CDK stack does (partition key `id`, string).
 * With `endpoint`, uses that server instead of starting one (the table is created if missing).
 */
export async function startLocalStateStore(
  opts: { port?: number; tableName?: string; endpoint?: string } = {},
): Promise<LocalStateStore> {
  const tableName = opts.tableName ?? 'eset-close-bridge-state';
  let server: ReturnType<typeof dynalite> | undefined;
  let endpoint = opts.endpoint;
  if (!endpoint) {
    const started = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    server = started;
    await new Promise<void>((resolve, reject) => {
      started.once('error', reject);
      started.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    endpoint = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  }
  const client = new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
  }
  return {
    endpoint,
    tableName,
    client,
    close: async () => {
      client.destroy();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
