import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type Clock, systemClock } from './clock/clock';
import type { Config } from './config/config';
import { credentialsResolver, webhookSecretsResolver } from './config/secrets';
import { EsetClient } from './eset/client';
import { TokenProvider } from './eset/token-provider';
import type { ReceiveDeps } from './handlers/receive-handler';
import type { RetryDeps } from './handlers/retry-handler';
import { DynamoIncidentStore } from './incidents/dynamodb-store';
import type { IncidentStore } from './incidents/store';
import { IncidentWorker, type WorkerTiming } from './incidents/worker';
import { createObservability, esetCallObserver, type Observability } from './observability/observability';
import { createRecorder, type OutcomeListener } from './observability/outcomes';
import type { Pacer } from './pacing/pacer';
import { RateLimiter } from './pacing/rate-limiter';
import { type RetryQueue, SqsRetryQueue } from './retry-queue/queue';
import { StoredNotices } from './sync/notices';
import { DynamoDocStore } from './sync/state';

export interface BridgeOverrides {
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
  sqs?: SQSClient;
  dynamo?: DynamoDBClient;
  queue?: RetryQueue;
  store?: IncidentStore;
  pacer?: Pacer;
  observability?: Observability;
  /** Every outcome, as it is recorded (the local runtime's lines, the demo, the chaos tool). */
  onOutcome?: OutcomeListener;
  newId?: () => string;
}

export interface Bridge {
  receive: ReceiveDeps;
  retry: RetryDeps;
  tokens: TokenProvider;
  pacer: Pacer;
  eset: EsetClient;
  worker: IncidentWorker;
  timing: WorkerTiming;
  /** The incident records (the sync reads them, and guards them against the ticket's echoes). */
  store: IncidentStore;
}

/**
 * The timings both Lambdas follow, from ESET's documented behaviour: 202 only after 30-50 s,
 * gives up after 120-180 s, keeps a cached answer 10 minutes.
 */
export function workerTiming(config: Config): WorkerTiming {
  const sessionMs = 2 * config.retryEsetTimeoutMs + 5_000;
  return {
    receive: { budgetMs: config.esetTimeoutMs, leaseMs: config.esetTimeoutMs + 10_000 },
    retry: { callTimeoutMs: config.retryEsetTimeoutMs, sessionMs, leaseMs: sessionMs + 30_000 },
    // The longest a message can wait in the retry queue: its delay, then every receive timing out.
    staleMessageMs: (900 + config.retryQueueMaxReceives * config.retryQueueVisibilitySeconds + 300) * 1000,
    overdueMs: (config.retryQueueVisibilitySeconds + 60) * 1000,
  };
}

/**
 * The composition root: builds the real parts from one parsed config. Entry files call it at
 * module scope (once per container); tests and the local runtime pass their own clock, fetch,
 * SQS or DynamoDB client.
 */
export function createBridge(config: Config, overrides: BridgeOverrides = {}): Bridge {
  const clock = overrides.clock ?? systemClock;
  const obs = overrides.observability ?? createObservability();
  const tokens = new TokenProvider({
    authUrl: config.esetAuthUrl,
    credentials: credentialsResolver(config.esetCredentials),
    clock,
    timeoutMs: config.esetTimeoutMs,
    integrationName: config.esetIntegrationName,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
  });
  const pacer = overrides.pacer ?? new RateLimiter(config.esetMaxRps, clock);
  const eset = new EsetClient({
    apiUrl: config.esetApiUrl,
    tokens,
    pacer,
    clock,
    integrationName: config.esetIntegrationName,
    observe: esetCallObserver(obs),
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
  });
  const queue =
    overrides.queue ??
    new SqsRetryQueue({
      ...(config.retryQueueUrl ? { retryQueueUrl: config.retryQueueUrl } : {}),
      ...(config.deadLetterQueueUrl ? { deadLetterQueueUrl: config.deadLetterQueueUrl } : {}),
      ...(overrides.sqs ? { client: overrides.sqs } : {}),
    });
  const store = overrides.store ?? dynamoStore(config, overrides.dynamo);
  const timing = workerTiming(config);
  const record = createRecorder(obs, overrides.onOutcome);
  // With the ESET-to-ticket sync on, failed closes are left for it to tell the ticket.
  const notices =
    config.sync && config.stateTable
      ? new StoredNotices(
          new DynamoDocStore({
            table: config.stateTable.table,
            ...(config.stateTable.endpoint ? { endpoint: config.stateTable.endpoint } : {}),
            ...(overrides.dynamo ? { client: overrides.dynamo } : {}),
          }),
          clock.now,
        )
      : undefined;
  const worker = new IncidentWorker({
    eset,
    store,
    queue,
    clock,
    random: overrides.random ?? Math.random,
    record,
    timing,
    policy: {
      baseSeconds: config.retryBaseSeconds,
      maxDelaySeconds: config.retryMaxDelaySeconds,
      settleSeconds: config.esetSettleSeconds,
      pendingResendSeconds: config.pendingResendSeconds,
      maxAgeSeconds: config.retryMaxAgeSeconds,
    },
    ...(overrides.newId ? { newId: overrides.newId } : {}),
    ...(notices ? { notices } : {}),
  });
  const webhookSecrets = config.webhookSecret
    ? webhookSecretsResolver(config.webhookSecret)
    : () => Promise.reject(new Error('no webhook secret configured'));
  const common = { ...obs, worker, record, clock, config };
  return {
    receive: { ...common, webhookSecrets, routes: config.routes },
    retry: { ...common, queue },
    tokens,
    pacer,
    eset,
    worker,
    timing,
    store,
  };
}

function dynamoStore(config: Config, client: DynamoDBClient | undefined): IncidentStore {
  const table = config.stateTable;
  if (!table) {
    // Both entries require STATE_TABLE; a store that says so keeps a mistake loud.
    return {
      get: () => Promise.reject(new Error('STATE_TABLE is not configured')),
      put: () => Promise.reject(new Error('STATE_TABLE is not configured')),
    };
  }
  return new DynamoIncidentStore({
    table: table.table,
    ...(table.endpoint ? { endpoint: table.endpoint } : {}),
    ...(client ? { client } : {}),
  });
}
