/**
 * The real parts the fuzzers run against: the receive and retry handlers built by `createBridge`
 * exactly as the Lambda entries build them, the ESET sandbox (a real loopback HTTP server that
 * sees every request, token requests included), and a recording SQS client.
 * Used by `npm run fuzz` (thousands of cases) and by `test/fuzz/*.test.ts` (a bounded number).
 * SQS is the bridge's own SqsRetryQueue over a recording client, so every message is recorded
 * exactly as SQS would receive it.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createBridge } from '../../functions/bridge';
import type { Clock } from '../../functions/clock/clock';
import { type Config, loadConfig } from '../../functions/config/config';
import { makeReceiveHandler } from '../../functions/handlers/receive-handler';
import { makeRetryHandler } from '../../functions/handlers/retry-handler';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { MemoryIncidentStore } from '../../infra/local/memory-store';

export const FUZZ_ESET_USER = 'fuzz-api-user@example.com';
export const FUZZ_ESET_PASSWORD = 'Fuzz-Pa55-n0t-f0r-answers';
/** The secret the fuzzers sign with; answers must never contain it (nor its key part). */
export const FUZZ_WEBHOOK_SECRET = TEST_WEBHOOK_SECRET;

/**
 * A clock whose `sleep` moves time forward at once instead of waiting. The rate limiter paces
 * valid closes at 10/s; with this clock a thousand valid closes take milliseconds, and time as
 * the handlers see it (signature tolerance, token expiry) stays consistent because the cases sign
 * with the same clock.
 */
export function skipAheadClock(): Clock & { skippedMs(): number } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      offset += Math.max(0, ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    skippedMs: () => offset,
  };
}

export interface QueueCall {
  op: 'enqueue' | 'deadLetter';
  body: string;
  /** Message attributes as given to SQS (name -> string value). */
  attributes: Record<string, string>;
  delaySeconds?: number;
  /** The double threw instead of storing (SQS unavailable). */
  failed: boolean;
}

const RETRY_QUEUE_URL = 'http://sqs.invalid/000000000000/fuzz-retry';
const DEAD_LETTER_QUEUE_URL = 'http://sqs.invalid/000000000000/fuzz-dlq';

/**
 * Stands in for the SQS client under the bridge's own SqsRetryQueue, so what is recorded is exactly
 * what the bridge would send to SQS (serialisation, attributes, delays), with no network.
 */
export class RecordingSqs {
  readonly calls: QueueCall[] = [];
  failEnqueue = false;
  failDeadLetter = false;

  async send(command: { input: Record<string, unknown> }): Promise<Record<string, unknown>> {
    const input = command.input as {
      QueueUrl?: string;
      MessageBody?: string;
      DelaySeconds?: number;
      MessageAttributes?: Record<string, { StringValue?: string }>;
    };
    const op = input.QueueUrl === DEAD_LETTER_QUEUE_URL ? 'deadLetter' : 'enqueue';
    if (input.QueueUrl !== RETRY_QUEUE_URL && input.QueueUrl !== DEAD_LETTER_QUEUE_URL) {
      throw new Error(`unexpected SQS call ${JSON.stringify(input).slice(0, 200)}`);
    }
    const failed = op === 'enqueue' ? this.failEnqueue : this.failDeadLetter;
    const attributes = Object.fromEntries(
      Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
    );
    this.calls.push({
      op,
      body: input.MessageBody ?? '',
      attributes,
      ...(input.DelaySeconds !== undefined ? { delaySeconds: input.DelaySeconds } : {}),
      failed,
    });
    if (failed) throw new Error('SQS unavailable (fuzz double)');
    return { MessageId: randomUUID() };
  }

  destroy(): void {}
}

export interface EsetRequest {
  kind: 'api' | 'token' | 'admin';
  method: string;
  path: string;
  status: number;
}

export interface FuzzRig {
  sandbox: EsetSandbox;
  queue: RecordingSqs;
  /** The recording client, typed for BridgeOverrides. */
  sqsClient: SQSClient;
  clock: ReturnType<typeof skipAheadClock>;
  config: Config;
  /** The incident records (in memory: the fuzzers test the boundaries, not the store). */
  store: MemoryIncidentStore;
  receive: ReturnType<typeof makeReceiveHandler>;
  retry: ReturnType<typeof makeRetryHandler>;
  /** Every request the ESET stand-in answered, in order (API and token). */
  esetRequests: EsetRequest[];
  /** Incidents the sandbox knows (open at first); valid cases pick from them. */
  knownIncidents: readonly string[];
  /** Secrets the answers and dead-letter reasons must never contain. */
  secrets: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the sandbox and builds both handlers. ESET answers mostly 200, with some 429, 503 and
 * 202 (pending), so valid input also reaches the queue; its own rate limit is off (the bridge's
 * limiter paces, on the skip-ahead clock).
 */
export async function startFuzzRig(opts: { seed?: number; incidents?: number } = {}): Promise<FuzzRig> {
  const esetRequests: EsetRequest[] = [];
  const sandbox = await createEsetSandbox({
    username: FUZZ_ESET_USER,
    password: FUZZ_ESET_PASSWORD,
    rateLimitPerSecond: 0,
    faults: { seed: opts.seed ?? 1, mix: { ok: 8, s429: 1, s503: 1, pending: 1 } },
    onRequest: (e) => {
      if (e.kind !== 'admin') esetRequests.push({ ...e });
    },
  });
  const knownIncidents = Array.from({ length: opts.incidents ?? 64 }, () => randomUUID());
  for (const id of knownIncidents) sandbox.addIncident(id);

  const config = loadConfig(
    {
      ESET_API_URL: sandbox.url,
      ESET_AUTH_URL: sandbox.url,
      ESET_USERNAME: FUZZ_ESET_USER,
      ESET_PASSWORD: FUZZ_ESET_PASSWORD,
      WEBHOOK_SECRET: FUZZ_WEBHOOK_SECRET,
      RETRY_QUEUE_URL,
      DEAD_LETTER_QUEUE_URL,
      ESET_TIMEOUT_MS: '2000',
      ESET_MAX_RPS: '10',
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '5',
      ESET_SETTLE_SECONDS: '0',
      PENDING_RESEND_SECONDS: '1',
    },
    { webhookSecret: true, retryQueue: true, deadLetterQueue: true },
  );
  const store = new MemoryIncidentStore();
  const clock = skipAheadClock();
  const queue = new RecordingSqs();
  // Answers are the subject here; logs are checked by test/integration/no-secrets.test.ts.
  // EMF output follows POWERTOOLS_METRICS_DISABLED (set by vitest.config.ts and scripts/fuzz.ts).
  const logger = new Logger({ serviceName: 'eset-close-bridge-fuzz', logLevel: 'SILENT' });
  const bridge = createBridge(config, {
    clock,
    store,
    sqs: queue as unknown as SQSClient,
    observability: {
      logger,
      metrics: new Metrics({ namespace: 'EsetCloseBridgeFuzz', serviceName: 'fuzz', logger }),
    },
  });

  const keyPart = FUZZ_WEBHOOK_SECRET.slice('whsec_'.length);
  return {
    sandbox,
    queue,
    sqsClient: queue as unknown as SQSClient,
    clock,
    config,
    store,
    receive: makeReceiveHandler(bridge.receive),
    retry: makeRetryHandler(bridge.retry),
    esetRequests,
    knownIncidents,
    secrets: [FUZZ_WEBHOOK_SECRET, keyPart, FUZZ_ESET_PASSWORD],
    close: () => sandbox.close(),
  };
}

/**
 * Characters SQS accepts in a message body and in string attributes:
 * `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 * Anything else is refused (InvalidMessageContents) or, per newer docs, replaced by U+FFFD.
 */
export function sqsIllegalCharacter(text: string): string | undefined {
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

/** SQS's message size limit (body plus attributes), the classic 256 KiB. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
