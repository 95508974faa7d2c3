/**
 * Token requests under concurrency: 100 signed closes start at once on a freshly built bridge
 * (cold token cache) against a loopback ESET whose token endpoint takes 20 ms, so every close is
 * waiting for a token at the same time. The bridge should ask for exactly one.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createBridge } from '../../functions/bridge';
import { loadConfig } from '../../functions/config/config';
import { makeReceiveHandler } from '../../functions/handlers/receive-handler';
import type { RetryMessage } from '../../functions/retry-queue/message';
import type { RetryQueue } from '../../functions/retry-queue/queue';
import { signedCloseEvent, TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { MemoryIncidentStore } from '../../infra/local/memory-store';
import { startLoopbackEset } from './loopback-eset';

export interface TokenResult {
  concurrency: number;
  tokenRequests: number;
  statuses: Record<string, number>;
  closeCalls: number;
  ms: number;
}

export async function measureTokens(concurrency = 100): Promise<TokenResult> {
  const eset = await startLoopbackEset({ tokenDelayMs: 20 });
  try {
    const config = loadConfig(
      {
        ESET_API_URL: eset.url,
        ESET_AUTH_URL: eset.url,
        ESET_USERNAME: 'bench-api-user@example.com',
        ESET_PASSWORD: 'bench-password',
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        RETRY_QUEUE_URL: 'https://sqs.invalid/123456789012/bench-retry',
        ESET_MAX_RPS: '10',
        // Closes beyond what the limiter admits within the budget are queued (202), not waited for.
        ESET_TIMEOUT_MS: '2500',
      },
      { webhookSecret: true, retryQueue: true },
    );
    const queued: RetryMessage[] = [];
    const queue: RetryQueue = {
      enqueue: async (work) => {
        queued.push(work);
      },
      deadLetter: async () => {},
    };
    const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
    const bridge = createBridge(config, {
      queue,
      // The records are not what this measures: kept in memory, so only the token cache is timed.
      store: new MemoryIncidentStore(),
      observability: { logger, metrics: new Metrics({ namespace: 'Bench', serviceName: 'bench', logger }) },
    });
    const handler = makeReceiveHandler(bridge.receive);
    const events = Array.from({ length: concurrency }, () => signedCloseEvent(randomUUID()));
    const started = performance.now();
    const answers = await Promise.all(events.map((e) => handler(e)));
    const ms = performance.now() - started;
    const statuses: Record<string, number> = {};
    for (const a of answers) statuses[a.statusCode] = (statuses[a.statusCode] ?? 0) + 1;
    return { concurrency, tokenRequests: eset.counts.token, statuses, closeCalls: eset.counts.close, ms };
  } finally {
    await eset.close();
  }
}
