import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadDynamo } from './aws/dynamodb';
import { type Clock, systemClock } from './clock/clock';
import type { Config } from './config/config';
import { credentialsResolver, webhookSecretsResolver } from './config/secrets';
import { ConfigError, describeError } from './errors/errors';
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
import { SharedBudget } from './pacing/shared-budget';
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
  /** The default tenant's parts (ESET_TENANT). */
  tokens: TokenProvider;
  pacer: Pacer;
  eset: EsetClient;
  /** Any tenant's parts, built on first use. */
  tenant: (name: string) => TenantParts;
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
    // A receive worker's lease outlives its Lambda (10 s deployed: 8 s + 3 s).
    receive: {
      budgetMs: config.esetTimeoutMs,
      leaseMs: config.esetTimeoutMs + Math.max(3_000, config.esetTimeoutMs / 4),
    },
    // The lease outlives the retry Lambda's run (150 s deployed): a worker that dies keeps it no
    // longer than it could still be working.
    retry: {
      callTimeoutMs: config.retryEsetTimeoutMs,
      sessionMs,
      leaseMs: sessionMs + Math.max(5_000, Math.round(0.35 * sessionMs)),
    },
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
  const dynamo = dynamoLoader(config, overrides.dynamo);
  const tenants = new Map<string, TenantParts>();
  /** A tenant's ESET client, token cache and rate budget, built on first use. */
  const partsOf = (name: string): TenantParts => {
    const known = tenants.get(name);
    if (known) return known;
    const tenant = config.tenants[name];
    if (!tenant)
      throw new ConfigError(`Unknown ESET tenant ${name.slice(0, 64)}`, [
        `unknown tenant ${name.slice(0, 64)}`,
      ]);
    const tokens = new TokenProvider({
      authUrl: tenant.authUrl,
      credentials: credentialsResolver(tenant.credentials),
      clock,
      timeoutMs: config.esetTimeoutMs,
      integrationName: config.esetIntegrationName,
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    });
    const pacer =
      overrides.pacer ??
      (config.stateTable
        ? new SharedBudget({
            table: config.stateTable.table,
            tenant: name,
            perSecond: tenant.rateLimit,
            clock,
            dynamo,
            onError: (err) =>
              obs.logger.warn('rate budget unavailable', { tenant: name, error: describeError(err) }),
          })
        : new RateLimiter(Math.min(config.esetMaxRps, tenant.rateLimit), clock));
    const eset = new EsetClient({
      apiUrl: tenant.apiUrl,
      tokens,
      pacer,
      clock,
      integrationName: config.esetIntegrationName,
      observe: esetCallObserver(obs, name),
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    });
    const parts = { tokens, pacer, eset };
    tenants.set(name, parts);
    return parts;
  };
  const home = partsOf(config.tenant);
  const queue =
    overrides.queue ??
    new SqsRetryQueue({
      ...(config.retryQueueUrl ? { retryQueueUrl: config.retryQueueUrl } : {}),
      ...(config.deadLetterQueueUrl ? { deadLetterQueueUrl: config.deadLetterQueueUrl } : {}),
      ...(overrides.sqs ? { client: overrides.sqs } : {}),
    });
  const store = overrides.store ?? dynamoStore(config, dynamo);
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
    eset: (tenant) => partsOf(tenant).eset,
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
    tokens: home.tokens,
    pacer: home.pacer,
    eset: home.eset,
    tenant: partsOf,
    worker,
    timing,
    store,
  };
}

interface TenantParts {
  tokens: TokenProvider;
  pacer: Pacer;
  eset: EsetClient;
}

/** One DynamoDB client per container, loaded on first use, for the records and the rate budget. */
function dynamoLoader(config: Config, client: DynamoDBClient | undefined) {
  let loaded: ReturnType<typeof loadDynamo> | undefined;
  return () => {
    loaded ??= loadDynamo(config.stateTable?.endpoint, client);
    return loaded;
  };
}

function dynamoStore(config: Config, dynamo: ReturnType<typeof dynamoLoader>): IncidentStore {
  const table = config.stateTable;
  if (!table) {
    // Both entries require STATE_TABLE; a store that says so keeps a mistake loud.
    return {
      get: () => Promise.reject(new Error('STATE_TABLE is not configured')),
      put: () => Promise.reject(new Error('STATE_TABLE is not configured')),
    };
  }
  return new DynamoIncidentStore({ table: table.table, dynamo });
}
