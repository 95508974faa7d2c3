/**
 * The whole bridge in one process: the receive Lambda behind a Function URL stand-in, the SQS
 * retry queue and DLQ, the retry Lambda fed like an SQS event source mapping, and (unless real
 * ESET is configured) the ESET sandbox. `npm start` wraps it; tests, benchmarks and the chaos
 * tool start it in-process. The handlers are the deployed ones, built by `createBridge`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { type BridgeOverrides, createBridge } from '../../functions/bridge';
import { type Config, loadConfig } from '../../functions/config/config';
import { describeError } from '../../functions/errors/errors';
import { makeReceiveHandler } from '../../functions/handlers/receive-handler';
import { makeRetryHandler } from '../../functions/handlers/retry-handler';
import type { HttpAnswer } from '../../functions/http/answers';
import { SERVICE_NAME } from '../../functions/observability/metric-names';
import { createObservability } from '../../functions/observability/observability';
import type { Outcome, OutcomeKind } from '../../functions/observability/outcomes';
import { loadSandboxCliConfig } from './eset-sandbox/cli-config';
import {
  createEsetSandbox,
  type EsetSandbox,
  type FaultConfig,
  type SandboxOptions,
} from './eset-sandbox/sandbox';
import { functionUrlListener } from './http-adapter';
import { type LocalQueues, queueDepth, setUpQueues } from './queues';
import { SqsEventSource } from './sqs-event-source';
import { type LocalStateStore, startLocalStateStore } from './state-store';
import {
  connectJira,
  type EmbeddedJira,
  embedJira,
  type LocalSync,
  type SyncActivity,
  startLocalSync,
} from './sync-runtime';

export type { Outcome as OutcomeEvent, OutcomeKind } from '../../functions/observability/outcomes';

/**
 * The documented local signing secret (`whsec_` + base64 of "local-dev-secret-change-me"). It is
 * public: it only ever protects a bridge listening on loopback. Deployed bridges use their own.
 */
export const LOCAL_WEBHOOK_SECRET = 'whsec_bG9jYWwtZGV2LXNlY3JldC1jaGFuZ2UtbWU=';

/** Credentials the embedded sandbox accepts unless ESET_USERNAME / ESET_PASSWORD say otherwise. */
export const SANDBOX_CREDENTIALS = { username: 'sandbox-user', password: 'sandbox-password' } as const;

/**
 * Shorter timings for demos, asked for explicitly (`LOCAL_TIMING=fast`): each applies only when
 * the variable is not set. By default `npm start` keeps the deployed budgets, against the sandbox
 * or any stand-in alike, so what it shows is what the stack does. The fast settle is only safe
 * against a stand-in, which is not still working after it stops answering.
 */
export const FAST_TIMING = {
  ESET_TIMEOUT_MS: '3000',
  RETRY_ESET_TIMEOUT_MS: '5000',
  RETRY_BASE_SECONDS: '1',
  RETRY_MAX_DELAY_SECONDS: '30',
  ESET_SETTLE_SECONDS: '2',
  PENDING_RESEND_SECONDS: '1',
  RETRY_QUEUE_VISIBILITY_SECONDS: '60',
} as const;

/** The sandbox answers 202 only after this long, as ESET documents (30 s), or 1 s with fast timing. */
export const SANDBOX_PENDING_DELAY_MS = { deployed: 30_000, fast: 1_000 } as const;

type Env = Record<string, string | undefined>;

export interface RuntimeOptions {
  /** The variables of docs/configuration.md; defaults to process.env. */
  env?: Env;
  /** Webhook server port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** An SQS endpoint to use instead of the embedded server; its queues are created if missing. */
  sqsEndpoint?: string;
  queuePrefix?: string;
  maxReceiveCount?: number;
  /** Retry Lambda batch size (default 5, as deployed) and long-poll wait (default 1 s). */
  batchSize?: number;
  /** Retry Lambda instances polling at once (default 2: the deployed MaximumConcurrency). */
  retryConcurrency?: number;
  waitTimeSeconds?: number;
  /** Receive Lambda containers that may run at once (each serves one request at a time). */
  maxReceiveConcurrency?: number;
  /** `deployed` (default): the stack's budgets; `fast`: FAST_TIMING for demos (LOCAL_TIMING=fast). */
  timing?: 'deployed' | 'fast';
  /** Embedded sandbox: port (default 0), open incidents to seed, fault mix, other options. */
  sandboxPort?: number;
  seedIncidents?: number;
  /**
   * More ESET tenants, each with a sandbox of its own (SANDBOX_TENANTS=acme,globex): an API user,
   * a rate limit and incidents of its own. Routes name their tenant in SENDERS_CONFIG.
   */
  sandboxTenants?: string[];
  sandboxFaults?: FaultConfig;
  sandbox?: Omit<SandboxOptions, 'port' | 'username' | 'password' | 'faults'>;
  /** Passed to createBridge for every container (tests, benchmarks). */
  overrides?: Pick<BridgeOverrides, 'clock' | 'random' | 'fetch'>;
  /** The handlers' JSON log level; default POWERTOOLS_LOG_LEVEL (outcomes are reported whatever it is). */
  logLevel?: LogLevel;
  /** One call per outcome (see formatOutcome). */
  onOutcome?: (outcome: Outcome) => void;
  /** Things worth a line that are not outcomes: SQS unreachable, a handler that threw. */
  onNotice?: (text: string) => void;
  /** With SYNC_TARGET: one call per ticket change the sync made. */
  onSyncActivity?: (activity: SyncActivity) => void;
  /** With SYNC_TARGET: run the sync every SYNC_INTERVAL_SECONDS (default true; tests run it themselves). */
  syncTimer?: boolean;
}

export interface RuntimeStats {
  startedAt: string;
  /** Webhook requests answered, by HTTP status. */
  answers: Record<string, number>;
  outcomes: Record<OutcomeKind, number>;
  batches: { count: number; messages: number; deleted: number; failed: number; threw: number };
  /** The last outcome of each incident (the most recent 10,000). */
  incidents: Record<string, OutcomeKind>;
  /** Queue depths taken when the runtime stopped. */
  queuesAtStop?: { retry: QueueDepth; deadLetter: QueueDepth };
}

type QueueDepth = Awaited<ReturnType<typeof queueDepth>>;

export interface Runtime {
  webhookUrl: string;
  sqsEndpoint: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  esetApiUrl: string;
  esetAuthUrl: string;
  /** The embedded sandbox, when ESET_REGION / ESET_API_URL do not point elsewhere. */
  sandbox?: EsetSandbox;
  /** The sandboxes of further tenants (SANDBOX_TENANTS), by tenant name. */
  tenantSandboxes: Record<string, EsetSandbox>;
  seededIncidents: string[];
  webhookSecret: { source: 'local default' | 'WEBHOOK_SECRET' | 'WEBHOOK_SECRET_ARN'; value?: string };
  timing: 'deployed' | 'fast';
  /** Whether queued work and incident records survive a restart (only with external SQS and DynamoDB). */
  durable: { queue: boolean; records: boolean };
  config: Config;
  sqs: SQSClient;
  /** The embedded Jira stand-in (SYNC_TARGET=jira without JIRA_BASE_URL). */
  jira?: EmbeddedJira['standin'];
  /** The ESET-to-ticket sync, when SYNC_TARGET is set. */
  sync?: LocalSync;
  stats(): RuntimeStats;
  queueDepths(): Promise<{ retry: QueueDepth; deadLetter: QueueDepth }>;
  /** Stops taking webhooks and polling, finishes the requests and the batch in hand, closes all. */
  stop(): Promise<void>;
}

const MAX_TRACKED_INCIDENTS = 10_000;

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}
const isSet = (env: Env, name: string) => env[name] !== undefined && env[name] !== '';

const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'closed',
  'reopened',
  'commented',
  'already',
  'queued',
  'requeued',
  'dead-lettered',
  'rejected',
  'refused',
  'unauthorized',
  'ignored',
  'duplicate',
  'stale',
  'settled',
  'redriven',
  'reason-conflict',
  'error',
  'redelivery',
];

/**
 * Parses the local-only variables (PORT, HOST, AWS_ENDPOINT_URL_SQS, QUEUE_PREFIX, SANDBOX_PORT,
 * SANDBOX_SEED_INCIDENTS, SANDBOX_FAULTS) and names every bad one at once.
 */
export function localOptionsFromEnv(env: Env = process.env): RuntimeOptions {
  const problems: string[] = [];
  const port = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65_535) {
      problems.push(`${name} must be a port number from 0 to 65535 (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return value;
  };
  const options: RuntimeOptions = { port: port('PORT', 3000), sandboxPort: port('SANDBOX_PORT', 0) };
  if (isSet(env, 'HOST')) options.host = env.HOST as string;
  if (isSet(env, 'SANDBOX_TENANTS')) {
    const names = (env.SANDBOX_TENANTS as string)
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    if (names.every((n) => /^[A-Za-z0-9_.-]{1,64}$/.test(n) && n !== 'default'))
      options.sandboxTenants = names;
    else problems.push('SANDBOX_TENANTS must be tenant names (letters, digits, . _ -) separated by commas');
  }
  if (isSet(env, 'LOCAL_TIMING')) {
    if (env.LOCAL_TIMING === 'fast' || env.LOCAL_TIMING === 'deployed') options.timing = env.LOCAL_TIMING;
    else problems.push('LOCAL_TIMING must be fast or deployed');
  }
  if (isSet(env, 'AWS_ENDPOINT_URL_SQS')) {
    const endpoint = env.AWS_ENDPOINT_URL_SQS as string;
    if (/^https?:\/\/\S+$/.test(endpoint)) options.sqsEndpoint = endpoint;
    else problems.push('AWS_ENDPOINT_URL_SQS must be an http(s) URL');
  }
  if (isSet(env, 'RETRY_CONCURRENCY')) {
    const n = Number(env.RETRY_CONCURRENCY);
    if (Number.isInteger(n) && n >= 1 && n <= 20) options.retryConcurrency = n;
    else problems.push('RETRY_CONCURRENCY must be a whole number from 1 to 20');
  }
  if (isSet(env, 'QUEUE_PREFIX')) {
    const prefix = env.QUEUE_PREFIX as string;
    if (/^[A-Za-z0-9_-]{1,70}$/.test(prefix)) options.queuePrefix = prefix;
    else problems.push('QUEUE_PREFIX must be 1 to 70 letters, digits, - or _');
  }
  try {
    const sandbox = loadSandboxCliConfig({
      PORT: '0',
      SANDBOX_SEED_INCIDENTS: env.SANDBOX_SEED_INCIDENTS,
      SANDBOX_FAULTS: env.SANDBOX_FAULTS,
      SANDBOX_REPEAT_APPLIES: env.SANDBOX_REPEAT_APPLIES,
      SANDBOX_PENDING_DELAY_MS: env.SANDBOX_PENDING_DELAY_MS,
    });
    options.seedIncidents = sandbox.seedIncidents;
    if (sandbox.faults) options.sandboxFaults = sandbox.faults;
    if (sandbox.repeatApplies || sandbox.pendingDelayMs !== undefined) {
      options.sandbox = {
        ...(sandbox.repeatApplies ? { repeatApplies: true } : {}),
        ...(sandbox.pendingDelayMs !== undefined ? { pendingDelayMs: sandbox.pendingDelayMs } : {}),
      };
    }
  } catch (err) {
    problems.push(
      err instanceof Error ? err.message.replace(/^Invalid sandbox configuration: /, '') : String(err),
    );
  }
  if (problems.length > 0) throw new Error(`Invalid local configuration: ${problems.join('; ')}`);
  return options;
}

function clockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * One readable line per outcome, e.g.
 * `10:41:07.456 223e4567-e89b-12d3-a456-426614174001 queued        attempt 1  ESET 503  [receive] retry, next attempt in 1 s`
 */
export function formatOutcome(o: Outcome): string {
  const parts = [clockTime(o.at), (o.incidentUuid ?? '-').padEnd(36), o.outcome.padEnd(13)];
  parts.push((o.action ?? '').padEnd(7));
  parts.push((o.esetStatus !== undefined ? `ESET ${o.esetStatus}` : '').padEnd(9));
  parts.push(`[${o.lambda}]`.padEnd(9));
  const tail: string[] = [];
  if (o.httpStatus !== undefined && o.httpStatus >= 400) tail.push(`HTTP ${o.httpStatus}`);
  if (o.why) tail.push(o.delaySeconds !== undefined ? `${o.why}, next step in ${o.delaySeconds} s` : o.why);
  if (o.detail) tail.push(o.detail);
  return `${parts.join(' ')} ${tail.join(': ')}`.trimEnd();
}

/** What `npm start` prints after `ready `: where everything is, and what to try. */
/** The `ready {json}` line: what scripts, tests and the chaos tool read to find the bridge. */
export interface ReadyInfo
  extends Pick<
    Runtime,
    'webhookUrl' | 'sqsEndpoint' | 'retryQueueUrl' | 'deadLetterQueueUrl' | 'esetApiUrl' | 'esetAuthUrl'
  > {
  eset: 'sandbox' | 'external';
  timing: Runtime['timing'];
  /** The receive Lambda's budget for ESET (ESET_TIMEOUT_MS). */
  receiveBudgetMs: number;
  webhookSecret: { source: string; value?: string; hint?: string };
  incidents: string[];
  /** Further tenants' sandboxes (SANDBOX_TENANTS) and their open incidents. */
  tenants?: Record<string, { esetApiUrl: string; incidents: string[] }>;
  /** With SYNC_TARGET: the target, the interval, and the embedded Jira stand-in's URL and project. */
  sync?: { target: string; intervalSeconds: number; jiraUrl?: string; jiraProjectKey?: string };
}

export function readyInfo(rt: Runtime): ReadyInfo {
  return {
    webhookUrl: rt.webhookUrl,
    sqsEndpoint: rt.sqsEndpoint,
    retryQueueUrl: rt.retryQueueUrl,
    deadLetterQueueUrl: rt.deadLetterQueueUrl,
    esetApiUrl: rt.esetApiUrl,
    esetAuthUrl: rt.esetAuthUrl,
    eset: rt.sandbox ? 'sandbox' : 'external',
    timing: rt.timing,
    receiveBudgetMs: rt.config.esetTimeoutMs,
    webhookSecret: rt.webhookSecret.value
      ? rt.webhookSecret
      : { source: rt.webhookSecret.source, hint: 'set by you; npm run send reads WEBHOOK_SECRET' },
    incidents: rt.seededIncidents,
    ...(Object.keys(rt.tenantSandboxes).length > 0
      ? {
          tenants: Object.fromEntries(
            Object.entries(rt.tenantSandboxes).map(([name, sb]) => [
              name,
              { esetApiUrl: sb.url, incidents: Object.keys(sb.state().incidents) },
            ]),
          ),
        }
      : {}),
    ...(rt.sync
      ? {
          sync: {
            target: rt.sync.target,
            intervalSeconds: rt.sync.intervalSeconds,
            ...(rt.jira ? { jiraUrl: rt.jira.url, jiraProjectKey: rt.config.sync?.jira?.projectKey } : {}),
          },
        }
      : {}),
  };
}

/** A Lambda container: one invocation at a time, its own clients, token cache and logger. */
interface ReceiveContainer {
  invoke(event: APIGatewayProxyEventV2, context: { awsRequestId: string }): Promise<HttpAnswer>;
}

/**
 * Starts everything and resolves once the webhook URL listens. Throws (after closing what it
 * started) when the configuration is invalid or a port is taken.
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const env: Env = options.env ?? process.env;
  const external = isSet(env, 'ESET_REGION') || isSet(env, 'ESET_API_URL');
  const timing = options.timing ?? (env.LOCAL_TIMING === 'fast' ? 'fast' : 'deployed');
  const localEset = !isSet(env, 'ESET_REGION') && (!external || isLoopback(env.ESET_API_URL as string));
  if (timing === 'fast' && !localEset) {
    throw new Error(
      'LOCAL_TIMING=fast shortens ESET_SETTLE_SECONDS, which is only safe against a local stand-in; ' +
        'against real ESET leave LOCAL_TIMING unset',
    );
  }
  const secretDefaulted = !isSet(env, 'WEBHOOK_SECRET') && !isSet(env, 'WEBHOOK_SECRET_ARN');
  const host = options.host ?? '127.0.0.1';
  if (secretDefaulted && (!localEset || !isLoopback(`http://${host.includes(':') ? `[${host}]` : host}`))) {
    throw new Error(
      'the built-in webhook secret is public and only protects a bridge on loopback talking to a local ' +
        'stand-in; set WEBHOOK_SECRET (whsec_ followed by base64, e.g. `whsec_$(openssl rand -base64 32)`) ' +
        'to listen on another address or to talk to a real ESET',
    );
  }
  const emitOutcome = options.onOutcome ?? (() => {});
  const notice = options.onNotice ?? (() => {});

  const started = new Date();
  const stats: RuntimeStats = {
    startedAt: started.toISOString(),
    answers: {},
    outcomes: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number>,
    batches: { count: 0, messages: 0, deleted: 0, failed: 0, threw: 0 },
    incidents: {},
  };
  const lastOutcome = new Map<string, OutcomeKind>();
  const record = (o: Outcome) => {
    stats.outcomes[o.outcome] += 1;
    if (o.incidentUuid && o.outcome !== 'settled') {
      lastOutcome.delete(o.incidentUuid);
      lastOutcome.set(o.incidentUuid, o.outcome);
      if (lastOutcome.size > MAX_TRACKED_INCIDENTS)
        lastOutcome.delete(lastOutcome.keys().next().value as string);
    }
    try {
      emitOutcome(o);
    } catch {
      // a printing problem must not fail a request
    }
  };

  let queues: LocalQueues | undefined;
  let sandbox: EsetSandbox | undefined;
  const sandboxes: EsetSandbox[] = [];
  let stateStore: LocalStateStore | undefined;
  let embedded: EmbeddedJira | undefined;
  let localSync: LocalSync | undefined;
  try {
    const defaults: Env = {};
    if (timing === 'fast') {
      for (const [name, value] of Object.entries(FAST_TIMING)) if (!isSet(env, name)) defaults[name] = value;
    }
    const visibility = Number(
      env.RETRY_QUEUE_VISIBILITY_SECONDS || defaults.RETRY_QUEUE_VISIBILITY_SECONDS || '900',
    );
    const maxReceives = options.maxReceiveCount ?? Number(env.RETRY_QUEUE_MAX_RECEIVES || '5');
    defaults.RETRY_QUEUE_MAX_RECEIVES = String(maxReceives);
    try {
      queues = await setUpQueues({
        ...(options.sqsEndpoint ? { endpoint: options.sqsEndpoint } : {}),
        ...(options.queuePrefix ? { prefix: options.queuePrefix } : {}),
        ...(Number.isInteger(visibility) && visibility > 0 ? { visibilityTimeoutSeconds: visibility } : {}),
        maxReceiveCount: maxReceives,
      });
    } catch (err) {
      const where = options.sqsEndpoint
        ? `SQS at ${options.sqsEndpoint} (AWS_ENDPOINT_URL_SQS)`
        : 'the embedded SQS';
      throw new Error(`cannot set up the queues in ${where}: ${describeError(err)}`, { cause: err });
    }

    const seeded: string[] = [];
    const sandboxEnv: Env = {};
    const tenantSandboxes: Record<string, EsetSandbox> = {};
    if (options.sandboxTenants && options.sandboxTenants.length > 0) {
      const tenants: Record<string, unknown> = {};
      for (const name of options.sandboxTenants) {
        const credentials = { username: `${name}-api-user`, password: `${name}-sandbox-password` };
        const sb = await createEsetSandbox({ ...options.sandbox, port: 0, ...credentials });
        sandboxes.push(sb);
        tenantSandboxes[name] = sb;
        for (let i = 0; i < (options.seedIncidents ?? 0); i++) sb.addIncident(randomUUID());
        tenants[name] = { apiUrl: sb.url, authUrl: sb.url, ...credentials };
      }
      sandboxEnv.ESET_TENANTS = JSON.stringify(tenants);
    }
    if (!external) {
      const username = isSet(env, 'ESET_USERNAME')
        ? (env.ESET_USERNAME as string)
        : SANDBOX_CREDENTIALS.username;
      const password = isSet(env, 'ESET_PASSWORD')
        ? (env.ESET_PASSWORD as string)
        : SANDBOX_CREDENTIALS.password;
      sandbox = await createEsetSandbox({
        // A pending answer comes after ESET's documented 30 s, or 1 s with the demo timings.
        pendingDelayMs: SANDBOX_PENDING_DELAY_MS[timing],
        ...options.sandbox,
        port: options.sandboxPort ?? 0,
        username,
        password,
        ...(options.sandboxFaults ? { faults: options.sandboxFaults } : {}),
      });
      for (let i = 0; i < (options.seedIncidents ?? 0); i++) {
        const uuid = randomUUID();
        sandbox.addIncident(uuid);
        seeded.push(uuid);
      }
      Object.assign(sandboxEnv, {
        ESET_API_URL: sandbox.url,
        ESET_AUTH_URL: sandbox.url,
        ESET_USERNAME: username,
        ESET_PASSWORD: password,
      });
    }

    // Incident records as deployed: an embedded DynamoDB (dynalite) holds the state table, or the
    // DynamoDB at AWS_ENDPOINT_URL_DYNAMODB (with STATE_TABLE, created if missing).
    if (!isSet(env, 'STATE_TABLE') || isSet(env, 'AWS_ENDPOINT_URL_DYNAMODB')) {
      stateStore = await startLocalStateStore({
        ...(isSet(env, 'AWS_ENDPOINT_URL_DYNAMODB')
          ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB as string }
          : {}),
        ...(isSet(env, 'STATE_TABLE') ? { tableName: env.STATE_TABLE as string } : {}),
      });
      defaults.STATE_TABLE = stateStore.tableName;
      defaults.AWS_ENDPOINT_URL_DYNAMODB = stateStore.endpoint;
    }
    if (secretDefaulted) defaults.WEBHOOK_SECRET = LOCAL_WEBHOOK_SECRET;
    // SYNC_TARGET=jira without JIRA_BASE_URL: a Jira stand-in, its webhooks to the /jira route.
    embedded = await embedJira(env, { localWebhookSecret: LOCAL_WEBHOOK_SECRET });
    if (embedded) Object.assign(defaults, embedded.defaults);
    const config = loadConfig(
      {
        ...env,
        ...defaults,
        ...sandboxEnv,
        RETRY_QUEUE_URL: queues.retryQueueUrl,
        DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      },
      {
        webhookSecret: true,
        retryQueue: true,
        deadLetterQueue: true,
        stateTable: true,
        // With SYNC_TARGET, its target's settings are checked at start, not at the first run.
        ...(isSet(env, 'SYNC_TARGET') ? { sync: true } : {}),
      },
    );
    const observability = () => ({
      ...createObservability(),
      logger: new Logger({
        serviceName: SERVICE_NAME,
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      }),
    });
    const overrides: BridgeOverrides = {
      ...options.overrides,
      sqs: queues.sqs,
      ...(stateStore ? { dynamo: stateStore.client } : {}),
      onOutcome: record,
    };

    // Receive: a pool of containers, each serving one request at a time, as Lambda scales.
    const newReceiveContainer = (): ReceiveContainer => {
      const handler = makeReceiveHandler(
        createBridge(config, { ...overrides, observability: observability() }).receive,
      );
      return {
        invoke: async (event, context) => {
          const answer = await handler(event, context);
          stats.answers[answer.statusCode] = (stats.answers[answer.statusCode] ?? 0) + 1;
          return answer;
        },
      };
    };
    const idle: ReceiveContainer[] = [];
    const waiting: ((c: ReceiveContainer) => void)[] = [];
    const maxContainers = Math.max(1, options.maxReceiveConcurrency ?? 10);
    let containers = 0;
    const acquire = (): Promise<ReceiveContainer> => {
      const free = idle.pop();
      if (free) return Promise.resolve(free);
      if (containers < maxContainers) {
        containers += 1;
        return Promise.resolve(newReceiveContainer());
      }
      return new Promise((resolve) => waiting.push(resolve));
    };
    const release = (c: ReceiveContainer) => {
      const next = waiting.shift();
      if (next) next(c);
      else idle.push(c);
    };

    // Retry: `retryConcurrency` containers, each fed by its own poller, as the event source
    // mapping runs up to MaximumConcurrency instances (2 as deployed).
    const retryQueues = queues;
    const makeRetrySource = () => {
      const retryHandler = makeRetryHandler(
        createBridge(config, { ...overrides, observability: observability() }).retry,
      );
      return new SqsEventSource({
        sqs: retryQueues.sqs,
        queueUrl: retryQueues.retryQueueUrl,
        handler: (event: SQSEvent) => retryHandler(event),
        batchSize: options.batchSize ?? 5,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
        onBatch: (b) => {
          stats.batches.count += 1;
          stats.batches.messages += b.received;
          stats.batches.deleted += b.deleted;
          stats.batches.failed += b.failed;
          if (b.threw !== undefined) {
            stats.batches.threw += 1;
            notice(
              `the retry Lambda threw (${describeError(b.threw)}); ${b.received} message(s) left for redelivery`,
            );
          }
        },
      });
    };
    const sources = Array.from({ length: Math.max(1, options.retryConcurrency ?? 2) }, makeRetrySource);

    const listener = functionUrlListener(
      async (event, context) => {
        const container = await acquire();
        try {
          return await container.invoke(event, context);
        } finally {
          release(container);
        }
      },
      {
        onError: (err) => {
          record({
            at: Date.now(),
            lambda: 'receive',
            outcome: 'error',
            httpStatus: 502,
            detail: describeError(err),
          });
        },
      },
    );
    let runtime: Runtime | undefined;
    const server = createServer((req, res) => {
      if ((req.url ?? '').startsWith('/_local/')) localRoute(req, res, () => runtime);
      else listener(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port ?? 3000, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const displayHost = bound === '0.0.0.0' || bound === '[::]' ? '127.0.0.1' : bound;

    // The pollers: like the event source mapping, they keep polling through SQS hiccups.
    let polling = true;
    let failing = false;
    const pollLoop = async (source: SqsEventSource) => {
      while (polling) {
        try {
          await source.pollOnce();
          if (failing) notice('the retry queue is reachable again');
          failing = false;
        } catch (err) {
          if (!failing) notice(`cannot poll the retry queue: ${describeError(err)}; retrying`);
          failing = true;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const poll = Promise.all(sources.map(pollLoop));

    const q = queues;
    const depths = async () => {
      const [retry, deadLetter] = await Promise.all([
        queueDepth(q.sqs, q.retryQueueUrl),
        queueDepth(q.sqs, q.deadLetterQueueUrl),
      ]);
      return { retry, deadLetter };
    };
    let stopping: Promise<void> | undefined;
    const sb = sandbox;
    const store = stateStore;
    const jira = embedded?.standin;
    if (jira) connectJira(jira, config, `http://${displayHost}:${address.port}/`);
    if (config.sync) {
      localSync = startLocalSync({
        config,
        overrides,
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
        ...(options.onSyncActivity ? { onActivity: options.onSyncActivity } : {}),
        onNotice: notice,
        timer: options.syncTimer !== false,
      });
    }
    const syncLoop = localSync;
    runtime = {
      webhookUrl: `http://${displayHost}:${address.port}/`,
      sqsEndpoint: q.endpoint,
      retryQueueUrl: q.retryQueueUrl,
      deadLetterQueueUrl: q.deadLetterQueueUrl,
      esetApiUrl: config.esetApiUrl,
      esetAuthUrl: config.esetAuthUrl,
      ...(sb ? { sandbox: sb } : {}),
      tenantSandboxes,
      seededIncidents: seeded,
      webhookSecret: secretDefaulted
        ? { source: 'local default', value: LOCAL_WEBHOOK_SECRET }
        : { source: isSet(env, 'WEBHOOK_SECRET') ? 'WEBHOOK_SECRET' : 'WEBHOOK_SECRET_ARN' },
      timing,
      durable: {
        queue: options.sqsEndpoint !== undefined,
        records: isSet(env, 'AWS_ENDPOINT_URL_DYNAMODB') || (isSet(env, 'STATE_TABLE') && !store),
      },
      config,
      sqs: q.sqs,
      ...(jira ? { jira } : {}),
      ...(syncLoop ? { sync: syncLoop } : {}),
      stats: () => ({ ...structuredClone(stats), incidents: Object.fromEntries(lastOutcome) }),
      queueDepths: depths,
      stop: () => {
        stopping ??= (async () => {
          // No new webhooks; the ones in hand finish (bounded by ESET's timeout), and so does
          // the batch in hand: the long poll is not aborted, so nothing it receives is stranded.
          await syncLoop?.stop();
          await jira?.close();
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          polling = false;
          const grace = setTimeout(() => server.closeAllConnections(), config.esetTimeoutMs + 2_000);
          await Promise.all([closed, poll]);
          clearTimeout(grace);
          try {
            stats.queuesAtStop = await depths();
          } catch {
            // SQS gone already: the summary says less
          }
          await q.close();
          await sb?.close();
          for (const other of sandboxes) await other.close();
          await store?.close();
        })();
        return stopping;
      },
    };
    return runtime;
  } catch (err) {
    await queues?.close().catch(() => {});
    await sandbox?.close().catch(() => {});
    for (const other of sandboxes) await other.close().catch(() => {});
    await stateStore?.close().catch(() => {});
    await localSync?.stop().catch(() => {});
    await embedded?.standin.close().catch(() => {});
    throw err;
  }
}

/**
 * `GET /_local/runtime`: the ready info and stats, for `npm run demo`; `POST /_local/sync`: one
 * sync run now, answered with its report. Loopback callers only.
 */
function localRoute(req: IncomingMessage, res: ServerResponse, runtime: () => Runtime | undefined): void {
  const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '');
  const rt = runtime();
  if (loopback && req.method === 'POST' && req.url === '/_local/sync' && rt?.sync) {
    req.resume();
    rt.sync.runNow().then(
      (report) => answerJson(res, 200, report),
      (err: unknown) => answerJson(res, 500, { message: describeError(err) }),
    );
    return;
  }
  const [status, value] = !loopback
    ? [403, { message: 'loopback only' }]
    : req.method !== 'GET' || req.url !== '/_local/runtime' || !rt
      ? [404, { message: 'unknown local endpoint; try GET /_local/runtime' }]
      : [200, { ...readyInfo(rt), stats: rt.stats() }];
  answerJson(res, status, value);
  req.resume();
}

function answerJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
