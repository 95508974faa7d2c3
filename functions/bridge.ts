import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AdvanceDeps } from './close/advance';
import type { Config } from './config/config';
import { credentialsResolver, webhookSecretsResolver } from './config/secrets';
import { EsetClient } from './eset/client';
import { TokenProvider } from './eset/token-provider';
import type { ReceiveDeps } from './handlers/receive-handler';
import type { RetryDeps } from './handlers/retry-handler';
import type { IdempotencyGuard } from './idempotency/guard';
import { createObservability, esetCallObserver, type Observability } from './observability/observability';
import { type Clock, RateLimiter, systemClock } from './pacing/rate-limiter';
import { type RetryQueue, SqsRetryQueue } from './retry-queue/queue';

export interface BridgeOverrides {
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
  sqs?: SQSClient;
  queue?: RetryQueue;
  observability?: Observability;
  /**
   * Duplicate-safe delivery for the receive Lambda (idempotency/dynamodb-guard.ts,
   * `idempotencyOverrides(config)`). Passed in rather than built here, so the retry Lambda's bundle
   * never carries Powertools Idempotency and the DynamoDB client.
   */
  idempotency?: IdempotencyGuard;
}

export interface Bridge {
  receive: ReceiveDeps;
  retry: RetryDeps;
  tokens: TokenProvider;
  limiter: RateLimiter;
}

/**
 * The composition root: builds the real parts from one parsed config. Entry files call it at
 * module scope (once per container); tests and the local runtime pass their own clock, fetch
 * or SQS client.
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
  const limiter = new RateLimiter(config.esetMaxRps, clock);
  const eset = new EsetClient({
    apiUrl: config.esetApiUrl,
    tokens,
    limiter,
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
  const core: AdvanceDeps = {
    eset,
    clock,
    random: overrides.random ?? Math.random,
    policy: {
      baseSeconds: config.retryBaseSeconds,
      maxDelaySeconds: config.retryMaxDelaySeconds,
      settleSeconds: config.esetSettleSeconds,
      pendingResendSeconds: config.pendingResendSeconds,
    },
  };
  const webhookSecrets = config.webhookSecret
    ? webhookSecretsResolver(config.webhookSecret)
    : () => Promise.reject(new Error('no webhook secret configured'));
  const { idempotency } = overrides;
  return {
    receive: {
      ...core,
      ...obs,
      config,
      queue,
      webhookSecrets,
      routes: config.routes,
      ...(idempotency ? { idempotency } : {}),
    },
    retry: { ...core, ...obs, config, queue },
    tokens,
    limiter,
  };
}
