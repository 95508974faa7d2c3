import { randomUUID } from 'node:crypto';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type BridgeOverrides, createBridge } from '../../functions/bridge';
import { loadConfig } from '../../functions/config/config';
import { makeReceiveHandler } from '../../functions/handlers/receive-handler';
import { makeRetryHandler } from '../../functions/handlers/retry-handler';
import { DynamoIncidentStore } from '../../functions/incidents/dynamodb-store';
import type { IncidentRecord } from '../../functions/incidents/record';
import type { Outcome } from '../../functions/observability/outcomes';
import {
  createEsetSandbox,
  type EsetSandbox,
  type SandboxOptions,
} from '../../infra/local/eset-sandbox/sandbox';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { type LocalQueues, queueDepth, setUpQueues } from '../../infra/local/queues';
import { SqsEventSource } from '../../infra/local/sqs-event-source';
import { type LocalStateStore, startLocalStateStore } from '../../infra/local/state-store';

export const ESET_USER = 'bridge-api-user@example.com';
export const ESET_PASSWORD = 'Pa55-eset-api-user-s3cret';

/**
 * Waits shrunk so a whole retry path runs in well under a second. The call timeouts stay those
 * deployed: they only end calls that hang, and a short one would turn a slow answer on a busy
 * machine into a timeout. Tests of timeouts set their own.
 */
export const FAST_TIMING = {
  ESET_TIMEOUT_MS: '8000',
  RETRY_ESET_TIMEOUT_MS: '8000',
  ESET_MAX_RPS: '10',
  RETRY_BASE_SECONDS: '0',
  RETRY_MAX_DELAY_SECONDS: '1',
  ESET_SETTLE_SECONDS: '0',
  PENDING_RESEND_SECONDS: '0',
};

export interface Harness {
  sandbox: EsetSandbox;
  queues: LocalQueues;
  env: Record<string, string>;
  bridge: ReturnType<typeof createBridge>;
  receive: (event: APIGatewayProxyEventV2) => ReturnType<ReturnType<typeof makeReceiveHandler>>;
  retry: ReturnType<typeof makeRetryHandler>;
  source: SqsEventSource;
  /** Runs the retry Lambda until the retry queue is empty (bounded). Returns batches handled. */
  drain(opts?: { maxMs?: number }): Promise<number>;
  /** Takes every message from the dead-letter queue, with its attributes. */
  deadLetters(): Promise<Message[]>;
  /** Puts a raw body on the retry queue (poison messages). */
  sendRaw(body: string): Promise<void>;
  newIncident(status?: Parameters<EsetSandbox['addIncident']>[1]): string;
  /** The dynalite server holding the state table (incident records). */
  stateStore: LocalStateStore;
  /** The incident record as stored. */
  incidentRecord(incidentUuid: string): Promise<IncidentRecord | undefined>;
  /** Every outcome the handlers recorded, in order. */
  outcomes: Outcome[];
  close(): Promise<void>;
}

/**
 * Real parts for integration tests: the ESET sandbox (a real HTTP server), a real SQS-protocol
 * server with the retry queue and its DLQ, both handlers built by the same factories as the
 * Lambda entries, and a poller that feeds the retry handler like the event source mapping.
 */
export async function startHarness(
  opts: {
    env?: Record<string, string>;
    sandbox?: SandboxOptions;
    overrides?: BridgeOverrides;
    sqsEndpoint?: string;
  } = {},
): Promise<Harness> {
  const sandbox = await createEsetSandbox({ username: ESET_USER, password: ESET_PASSWORD, ...opts.sandbox });
  const queues = await setUpQueues({
    ...(opts.sqsEndpoint ? { endpoint: opts.sqsEndpoint } : {}),
    prefix: `t-${randomUUID().slice(0, 8)}`,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  const stateStore = await startLocalStateStore();
  const env: Record<string, string> = {
    STATE_TABLE: stateStore.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: stateStore.endpoint,
    RETRY_QUEUE_VISIBILITY_SECONDS: '5',
    RETRY_QUEUE_MAX_RECEIVES: '3',
    ESET_API_URL: sandbox.url,
    ESET_AUTH_URL: sandbox.url,
    ESET_USERNAME: ESET_USER,
    ESET_PASSWORD: ESET_PASSWORD,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    RETRY_QUEUE_URL: queues.retryQueueUrl,
    DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
    ...FAST_TIMING,
    ...opts.env,
  };
  const config = loadConfig(env, {
    webhookSecret: true,
    retryQueue: true,
    deadLetterQueue: true,
    stateTable: true,
  });
  const outcomes: Outcome[] = [];
  const bridge = createBridge(config, {
    sqs: queues.sqs,
    dynamo: stateStore.client,
    onOutcome: (o) => outcomes.push(o),
    ...opts.overrides,
  });
  const records = new DynamoIncidentStore({ table: stateStore.tableName, client: stateStore.client });
  const receive = makeReceiveHandler(bridge.receive);
  const retry = makeRetryHandler(bridge.retry);
  const source = new SqsEventSource({
    sqs: queues.sqs,
    queueUrl: queues.retryQueueUrl,
    handler: retry,
    batchSize: 10,
  });

  const drain = async ({ maxMs = 15_000 } = {}) => {
    const until = Date.now() + maxMs;
    let batches = 0;
    while (Date.now() < until) {
      const got = await source.pollOnce(0);
      if (got > 0) {
        batches += 1;
        continue;
      }
      const depth = await queueDepth(queues.sqs, queues.retryQueueUrl);
      if (depth.visible + depth.inFlight + depth.delayed === 0) return batches;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`retry queue not drained within ${maxMs} ms`);
  };

  const deadLetters = async () => {
    const all: Message[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await queues.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          AttributeNames: ['All'],
          VisibilityTimeout: 60,
        }),
      );
      const got = res.Messages ?? [];
      all.push(...got);
      if (got.length === 0) break;
    }
    return all;
  };

  return {
    sandbox,
    queues,
    env,
    bridge,
    receive: (event) => receive(event),
    retry,
    source,
    drain,
    deadLetters,
    sendRaw: async (body) => {
      await queues.sqs.send(new SendMessageCommand({ QueueUrl: queues.retryQueueUrl, MessageBody: body }));
    },
    newIncident: (status) => {
      const id = randomUUID();
      sandbox.addIncident(id, status);
      return id;
    },
    stateStore,
    outcomes,
    incidentRecord: async (incidentUuid) => (await records.get(config.tenant, incidentUuid))?.rec,
    close: async () => {
      await source.stop();
      await sandbox.close();
      await queues.close();
      await stateStore.close();
    },
  };
}

/** The close calls (not re-sends) the sandbox saw for one incident. */
export function closeCalls(sandbox: EsetSandbox, incidentUuid: string) {
  return sandbox
    .state()
    .calls.filter((c) => c.method === 'POST' && c.path.includes(incidentUuid) && !c.responseIdResend);
}
