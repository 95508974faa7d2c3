import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../config/config';
import type { HttpAnswer } from '../http/answers';
import type { CloseRequest } from '../webhook/close-request';
import { type IdempotencyGuard, type IdempotencySettings, IdempotencyStoreError, KEY_PREFIX } from './guard';

const isLoopback = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

type Loaded = {
  run: (
    key: CloseRequest,
    ctx: { getRemainingTimeInMillis(): number },
    work: () => Promise<HttpAnswer>,
  ) => Promise<HttpAnswer>;
};

/**
 * The DynamoDB-backed guard (Powertools Idempotency, DynamoDB persistence layer). Powertools and the DynamoDB client are imported on first use, so a
 * cold start that only verifies a signature (or a deployment without idempotency) never loads them.
 */
export function dynamoIdempotencyGuard(
  settings: IdempotencySettings,
  overrides: { client?: DynamoDBClient } = {},
): IdempotencyGuard {
  let loading: Promise<Loaded> | undefined;
  const load = async (): Promise<Loaded> => {
    const [{ makeIdempotent, IdempotencyConfig }, { DynamoDBPersistenceLayer }, { DynamoDBClient }] =
      await Promise.all([
        import('@aws-lambda-powertools/idempotency'),
        import('@aws-lambda-powertools/idempotency/dynamodb'),
        import('@aws-sdk/client-dynamodb'),
      ]);
    const client =
      overrides.client ??
      new DynamoDBClient(
        settings.endpoint
          ? {
              endpoint: settings.endpoint,
              region: process.env.AWS_REGION ?? 'us-east-1',
              // A local server ignores credentials; anything else uses the normal provider chain.
              ...(isLoopback(settings.endpoint)
                ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
                : {}),
            }
          : {},
      );
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: settings.table,
      keyAttr: 'id',
      expiryAttr: 'expiration',
      awsSdkV3Client: client,
    });
    const config = new IdempotencyConfig({
      expiresAfterSeconds: settings.ttlSeconds,
      hashFunction: 'sha256',
    });
    return {
      run: (key, ctx, work) =>
        makeIdempotent(async (_key: CloseRequest, _ctx: typeof ctx) => work(), {
          persistenceStore,
          config,
          keyPrefix: KEY_PREFIX,
        })(key, ctx),
    };
  };

  return {
    async once(key, inProgressMs, work) {
      loading ??= load().catch((err: unknown) => {
        loading = undefined;
        throw err;
      });
      const { run } = await loading;
      let produced: HttpAnswer | undefined;
      try {
        const answer = await run(key, { getRemainingTimeInMillis: () => inProgressMs }, async () => {
          produced = await work();
          return produced;
        });
        return produced ? { kind: 'first', answer } : { kind: 'replay', answer };
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'IdempotencyAlreadyInProgressError') return { kind: 'in-progress' };
        // The close ran but its answer could not be stored: the sender still gets the real outcome.
        // The in-progress marker expires after `inProgressMs`; a later duplicate then runs again,
        // and ESET answers "already closed" (200) for a close that went through.
        if (produced) return { kind: 'first', answer: produced };
        if (name.startsWith('Idempotency')) throw new IdempotencyStoreError({ cause: err });
        throw err;
      }
    },
  };
}

/**
 * The receive Lambda's idempotency override for createBridge: the guard when IDEMPOTENCY_TABLE is
 * set, nothing otherwise. Used by functions/receive.ts, the test harness and the local runtime.
 */
export function idempotencyOverrides(
  config: Pick<Config, 'idempotency'>,
  client?: DynamoDBClient,
): { idempotency?: IdempotencyGuard } {
  if (!config.idempotency) return {};
  return { idempotency: dynamoIdempotencyGuard(config.idempotency, client ? { client } : {}) };
}
