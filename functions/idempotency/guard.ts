import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BridgeError } from '../errors/errors';
import type { HttpAnswer } from '../http/answers';
import type { CloseRequest } from '../webhook/close-request';

/**
 * Duplicate-safe delivery with Powertools Idempotency and its DynamoDB persistence layer
 * (https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/).
 *
 * The key is the close itself (incident, reason, comment, ticket), not a sender's delivery id: a
 * Standard Webhooks retry (same `webhook-id`), a Zendesk re-invocation, a Jira retry and a second
 * rule that sends the same close all map to the same request, so one key catches them all.
 * The first answer of 200, 202, 404 or 422 is stored and repeated for `ttlSeconds`; an answer that
 * the work throws (503: the retry queue could not store it) deletes the record, so the sender's
 * retry runs again.
 */
export interface IdempotencySettings {
  table: string;
  ttlSeconds: number;
  /** A DynamoDB-protocol endpoint (dynalite locally); AWS's own when unset. */
  endpoint?: string;
}

export type Once =
  | { kind: 'first'; answer: HttpAnswer }
  | { kind: 'replay'; answer: HttpAnswer }
  | { kind: 'in-progress' };

export interface IdempotencyGuard {
  /**
   * Runs `work` unless the same close ran within the window: then answers with what it answered.
   * `inProgressMs` is how long the in-progress marker holds if this invocation dies mid-way (the
   * Lambda's remaining time), after which a retry may take over.
   */
  once(key: CloseRequest, inProgressMs: number, work: () => Promise<HttpAnswer>): Promise<Once>;
}

/** The idempotency store could not be read or written before the work ran: the sender retries (503). */
export class IdempotencyStoreError extends BridgeError {
  override name = 'IdempotencyStoreError';
  constructor(opts: { cause?: unknown } = {}) {
    super('Duplicate protection is unavailable; please retry later', {
      statusCode: 503,
      expose: true,
      ...opts,
    });
  }
}

/** The prefix of every key: stable across function renames, so a redeploy keeps the window. */
export const KEY_PREFIX = 'close';

const isLoopback = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

type Loaded = {
  run: (
    key: CloseRequest,
    ctx: { getRemainingTimeInMillis(): number },
    work: () => Promise<HttpAnswer>,
  ) => Promise<HttpAnswer>;
};

/**
 * The DynamoDB-backed guard. Powertools and the DynamoDB client are imported on first use, so a
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
