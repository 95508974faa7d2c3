/**
 * The chaos run: the local runtime (a child process, as `npm start` runs it) against the ESET
 * sandbox with a fault mix, N signed closes from concurrent senders, and an account of every
 * accepted request at the end: closed exactly once, or dead-lettered with a reason. Optionally
 * the bridge is killed with SIGKILL mid-run and restarted on the same queues.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { sign } from '../../functions/auth/standard-webhooks';
import { DynamoIncidentStore } from '../../functions/incidents/dynamodb-store';
import { createEsetSandbox, type FaultMix } from '../../infra/local/eset-sandbox/sandbox';
import { queueDepth, setUpQueues, startSqsServer } from '../../infra/local/queues';
import type { ReadyInfo } from '../../infra/local/runtime';
import { startLocalStateStore } from '../../infra/local/state-store';

const START = fileURLToPath(new URL('../../infra/local/start.ts', import.meta.url));
const SECRET = 'whsec_Y2hhb3MtcnVuLXNpZ25pbmctc2VjcmV0';
const ESET_LIMIT = 10;

export interface ChaosOptions {
  incidents?: number;
  seed?: number;
  senders?: number;
  /** Kill the bridge with SIGKILL after this share of the requests was answered, then restart it. */
  crashAt?: number;
  mix?: FaultMix;
  /**
   * ESET as its documentation allows: every repeated close is applied again (and answered 200),
   * and some closes are applied but answered 500. Nothing may then depend on a repeat's answer.
   */
  repeatApplies?: boolean;
  /**
   * Each incident gets a life, not one close: closes, reopens and comments with `occurredAt`,
   * delivered shuffled across all senders (so often out of order). At the end every incident's
   * state at ESET must be its latest event's, and every comment must be there exactly once.
   */
  mixed?: boolean;
  /** Append the bridge's own log lines (INFO: every outcome) to this file, to trace a failed run. */
  bridgeLog?: string;
  /** Give up waiting for the queues to settle after this long. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  incidents: number;
  accepted: number;
  closed: number;
  closedMoreThanOnce: number;
  deadLettered: Record<string, number>;
  lost: number;
  lostIncidents: string[];
  /** What the bridge's record said of each lost incident, or one missing a comment (at most 5). */
  lostRecords: Array<{
    incidentUuid: string;
    record: unknown;
    esetStatus?: string;
    /** Each delivery for the incident and the bridge's last answer to it. */
    deliveries: string[];
    /** ESET's calls for the incident: ms from the start, kind, status. */
    esetCalls: string[];
    commentsAtEset: string[];
  }>;
  /** The retry queue drained; otherwise what is still queued counts as unsettled, not lost. */
  settled: boolean;
  unsettled: number;
  answers: Record<string, number>;
  esetCalls: number;
  esetCallsPerClose: number;
  esetCallsByStatus: Record<string, number>;
  maxEsetCallsPerSecond: number;
  esetLimitPerSecond: number;
  /** Calls ESET's per-API-user limit refused (429), and their share of all calls. */
  refusedByLimit: number;
  refusedByLimitShare: number;
  /** The median ESET calls per second over the seconds the bridge was calling ESET at all. */
  busyCallsPerSecond: number;
  crashes: number;
  repeatApplies: boolean;
  /** Mixed lives: ticket events delivered, incidents whose final state is not their latest event's, comments missing or doubled. */
  mixed?: { events: number; wrongFinalState: number; commentsMissing: number; commentsDoubled: number };
  seconds: number;
  ok: boolean;
}

/** Mostly 200, many 202 with pending re-sends, lost caches, 429, 503, 500, 504, hangs past the timeout. */
export const DEFAULT_MIX: FaultMix = {
  ok: 50,
  pending: 15,
  lostCache: 5,
  s429: 8,
  s503: 7,
  s500: 5,
  s504: 5,
  hang: 5,
  hangMs: 1500,
};

/** The default mix, plus closes ESET applies and then answers 500 (a repeat would apply again). */
export const REPEAT_APPLIES_MIX: FaultMix = { ...DEFAULT_MIX, ok: 45, applied500: 5 };

/** Timing shrunk so that a run takes seconds; the settle time still outlasts the sandbox's hangs. */
const BRIDGE_TIMING = {
  ESET_TIMEOUT_MS: '1000',
  RETRY_ESET_TIMEOUT_MS: '1000',
  RETRY_BASE_SECONDS: '1',
  RETRY_MAX_DELAY_SECONDS: '2',
  ESET_SETTLE_SECONDS: '1',
  PENDING_RESEND_SECONDS: '1',
};

interface Bridge {
  proc: ChildProcess;
  webhookUrl: string;
}

async function startBridge(env: Record<string, string>, logFile?: string): Promise<Bridge> {
  const proc = spawn(process.execPath, ['--import', 'tsx', START], {
    env: { ...process.env, ...env, PORT: '0', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (logFile) {
    const out = createWriteStream(logFile, { flags: 'a' });
    proc.stdout?.on('data', (c: Buffer | string) => out.write(c));
    proc.stderr?.on('data', (c: Buffer | string) => out.write(c));
    proc.on('exit', () => out.end());
  }
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  let buffer = '';
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge not ready within 30 s: ${stderr}`)), 30_000);
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer = (buffer + chunk).slice(-100_000);
      const line = buffer.split('\n').find((l) => l.startsWith('ready '));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited (${code}) before ready: ${stderr}`));
    });
  });
  const line = await ready;
  proc.stdout?.resume();
  const info = JSON.parse(line.slice('ready '.length)) as ReadyInfo;
  return { proc, webhookUrl: info.webhookUrl };
}

async function stopBridge(bridge: Bridge, signal: NodeJS.Signals): Promise<void> {
  if (bridge.proc.exitCode !== null || bridge.proc.signalCode !== null) return;
  const exited = once(bridge.proc, 'exit');
  bridge.proc.kill(signal);
  await exited;
}

/** Runs the chaos scenario and returns the account; never throws for a bad outcome, only for broken set-up. */
export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const n = options.incidents ?? 1000;
  const seed = options.seed ?? 42;
  const senders = options.senders ?? 20;
  const log = options.log ?? (() => {});
  const started = Date.now();

  const sandbox = await createEsetSandbox({
    username: 'chaos-api-user',
    password: 'chaos-api-password',
    rateLimitPerSecond: ESET_LIMIT,
    repeatApplies: options.repeatApplies === true,
    faults: { seed, mix: options.mix ?? (options.repeatApplies ? REPEAT_APPLIES_MIX : DEFAULT_MIX) },
  });
  const sqsServer = await startSqsServer();
  // The incident records outlive the bridge too, as DynamoDB does in AWS.
  const store = await startLocalStateStore();
  const prefix = `chaos-${randomUUID().slice(0, 8)}`;
  // Short visibility timeout, so work a killed bridge had in hand comes back within seconds.
  const queues = await setUpQueues({
    endpoint: sqsServer.endpoint,
    prefix,
    visibilityTimeoutSeconds: 4,
    maxReceiveCount: 5,
  });
  const env = {
    ...BRIDGE_TIMING,
    ESET_API_URL: sandbox.url,
    ESET_AUTH_URL: sandbox.url,
    ESET_USERNAME: 'chaos-api-user',
    ESET_PASSWORD: 'chaos-api-password',
    WEBHOOK_SECRET: SECRET,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    QUEUE_PREFIX: prefix,
    STATE_TABLE: store.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
    RETRY_QUEUE_VISIBILITY_SECONDS: '4',
    RETRY_QUEUE_MAX_RECEIVES: '5',
    SANDBOX_SEED_INCIDENTS: '0',
    POWERTOOLS_LOG_LEVEL: options.bridgeLog ? 'INFO' : 'ERROR',
  };

  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) sandbox.addIncident(id);

  let bridge = await startBridge(env, options.bridgeLog);
  let crashes = 0;
  let restarting: Promise<void> | undefined;
  const crashAfter =
    options.crashAt === undefined ? Number.POSITIVE_INFINITY : Math.floor(n * options.crashAt);
  const answers: Record<string, number> = {};
  const accepted = new Set<string>();
  let answered = 0;

  const crash = async () => {
    crashes += 1;
    log(`SIGKILL the bridge after ${answered} answers`);
    await stopBridge(bridge, 'SIGKILL');
    bridge = await startBridge(env, options.bridgeLog);
    log('bridge restarted on the same queues');
  };

  /**
   * A ticketing system: retries 5xx, 409 and 429 (as Jira does) and connection errors with a short
   * backoff, at most 30 times.
   */
  const answerOf = new Map<Delivery, string>();
  const deliver = async (delivery: Delivery) => {
    const { id, body } = delivery;
    const webhookId = `msg_${randomUUID()}`;
    for (let attempt = 0; attempt < 30; attempt++) {
      if (restarting) await restarting;
      const ts = Math.floor(Date.now() / 1000);
      let status: string;
      try {
        const res = await fetch(bridge.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': webhookId,
            'webhook-timestamp': String(ts),
            'webhook-signature': sign(SECRET, webhookId, ts, body),
          },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        const answer = await res.text();
        status = String(res.status);
        const said = /"status":"([a-z-]+)"/.exec(answer)?.[1] ?? '';
        answerOf.set(delivery, `${res.status} ${said}${attempt > 0 ? ` after ${attempt} retries` : ''}`);
        if (res.status < 500 && res.status !== 409 && res.status !== 429) {
          answers[status] = (answers[status] ?? 0) + 1;
          if (res.status === 200 || res.status === 202) accepted.add(id);
          answered += 1;
          if (answered === crashAfter && crashes === 0) {
            restarting = crash().finally(() => {
              restarting = undefined;
            });
          }
          return;
        }
      } catch {
        status = 'connection-error';
      }
      answers[`retried-${status}`] = (answers[`retried-${status}`] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 200 * Math.min(attempt + 1, 5)));
    }
    answers['gave-up'] = (answers['gave-up'] ?? 0) + 1;
  };

  const deliveries = options.mixed ? lives(ids, seed) : ids.map(closeOnly);
  let next = 0;
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++] as Delivery;
        await deliver(d);
      }
    }),
  );
  if (restarting) await restarting;
  log(`all ${deliveries.length} requests answered; waiting for the retry queue to drain`);

  // Settled: the retry queue stays empty (nothing visible, in flight or delayed) twice in a row.
  // The wait goes on while ESET keeps seeing calls, and gives up after a minute without progress.
  const hardStop = Date.now() + (options.settleTimeoutMs ?? 15 * 60_000);
  let quiet = 0;
  let lastCalls = -1;
  let lastProgress = Date.now();
  let settled = false;
  while (Date.now() < hardStop && Date.now() - lastProgress < 60_000) {
    const d = await queueDepth(queues.sqs, queues.retryQueueUrl);
    quiet = d.visible + d.inFlight + d.delayed === 0 ? quiet + 1 : 0;
    if (quiet >= 2) {
      settled = true;
      break;
    }
    const calls = sandbox.state().calls.length;
    if (calls !== lastCalls) {
      lastCalls = calls;
      lastProgress = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!settled) log('the retry queue did not drain: what is left there counts as unsettled, not lost');
  await stopBridge(bridge, 'SIGTERM');

  const dead = await readAll(queues.sqs, queues.deadLetterQueueUrl);
  const state = sandbox.state();
  const deadLettered: Record<string, number> = {};
  const deadIds = new Set<string>();
  for (const m of dead) {
    const reason =
      m.MessageAttributes?.reason?.StringValue ?? '(no reason: moved by SQS after maxReceiveCount)';
    const key = reason.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').replace(/\d+ s/, 'N s');
    deadLettered[key] = (deadLettered[key] ?? 0) + 1;
    const id = m.MessageAttributes?.incidentUuid?.StringValue ?? tryIncident(m.Body);
    if (id) deadIds.add(id);
  }
  let closed = 0;
  let closedMoreThanOnce = 0;
  const lostIncidents: string[] = [];
  const unsettledIncidents: string[] = [];
  let wrongFinalState = 0;
  let commentsMissing = 0;
  let commentsDoubled = 0;
  /** Incidents in their wanted state but missing a comment (diagnosed with the lost ones). */
  const missingAt: string[] = [];
  for (const id of ids) {
    const incident = state.incidents[id];
    const applied = incident?.closesApplied ?? 0;
    if (incident?.status === 'INCIDENT_STATUS_CLOSED') closed += 1;
    if (!options.mixed) {
      if (applied > 1) closedMoreThanOnce += 1;
      if (accepted.has(id) && incident?.status !== 'INCIDENT_STATUS_CLOSED' && !deadIds.has(id))
        lostIncidents.push(id);
      continue;
    }
    // Mixed: the latest event decides the state; every text a ticket sent is there exactly once.
    const mine = deliveries.filter((d) => d.id === id);
    const latest = mine
      .filter((d) => d.action !== 'comment')
      .sort((a, b) => (a.at < b.at ? -1 : 1))
      .at(-1);
    const want = latest?.action === 'close' ? 'INCIDENT_STATUS_CLOSED' : 'INCIDENT_STATUS_OPEN';
    const parked = deadIds.has(id);
    if (latest && incident?.status !== want && !parked) {
      wrongFinalState += 1;
      lostIncidents.push(id);
    }
    const textsAtEset = (incident?.comments ?? []).map((c) => c.text);
    for (const d of mine) {
      if (!d.text) continue;
      const times = textsAtEset.filter((t) => t === d.text).length;
      // A close or reopen a later event superseded may never reach ESET; a comment always must.
      if (times === 0 && d.action === 'comment' && !parked) {
        commentsMissing += 1;
        if (!lostIncidents.includes(id)) missingAt.push(id);
      }
      if (times > 1) commentsDoubled += 1;
    }
  }
  if (options.mixed) closedMoreThanOnce = commentsDoubled;
  const records = new DynamoIncidentStore({ table: store.tableName, client: store.client });
  const lostRecords: ChaosReport['lostRecords'] = [];
  for (const id of [...lostIncidents, ...missingAt].slice(0, 5)) {
    const stored = await records.get('default', id).catch((err: Error) => ({ error: err.message }));
    const esetStatus = state.incidents[id]?.status;
    const esetCallsFor = state.calls
      .filter((c) => c.path.includes(id))
      .map((c) => `${c.at - started} ms ${c.call}${c.responseIdResend ? '+id' : ''} ${c.status}`);
    const sent = deliveries
      .filter((d) => d.id === id)
      .map((d) => `${d.action} ${d.at}${d.text ? ` "${d.text}"` : ''}: ${answerOf.get(d) ?? 'none'}`);
    lostRecords.push({
      incidentUuid: id,
      record: stored ?? null,
      ...(esetStatus ? { esetStatus } : {}),
      deliveries: sent,
      esetCalls: esetCallsFor,
      commentsAtEset: (state.incidents[id]?.comments ?? []).map((c) => c.text),
    });
  }
  const esetCalls = state.calls.length;
  const perSecond = new Map<number, number>();
  for (const c of state.calls)
    perSecond.set(Math.floor(c.at / 1000), (perSecond.get(Math.floor(c.at / 1000)) ?? 0) + 1);
  const busy = [...perSecond.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(1, -1)
    .map(([, n]) => n)
    .sort((a, b) => a - b);
  const busyCallsPerSecond = busy.length > 0 ? (busy[Math.floor(busy.length / 2)] as number) : 0;
  await sandbox.close();
  await queues.close();
  await store.close();
  await new Promise<void>((resolve) => sqsServer.server.close(() => resolve()));

  return {
    incidents: n,
    accepted: accepted.size,
    closed,
    closedMoreThanOnce,
    deadLettered,
    lost: lostIncidents.length,
    lostIncidents: lostIncidents.slice(0, 20),
    lostRecords,
    settled,
    unsettled: unsettledIncidents.length,
    answers,
    esetCalls,
    esetCallsPerClose: closed > 0 ? Math.round((esetCalls / closed) * 100) / 100 : 0,
    esetCallsByStatus: state.callsByStatus,
    maxEsetCallsPerSecond: state.maxCallsInAnySecond,
    esetLimitPerSecond: ESET_LIMIT,
    refusedByLimit: state.rateLimited,
    refusedByLimitShare: esetCalls > 0 ? Math.round((state.rateLimited / esetCalls) * 10_000) / 100 : 0,
    busyCallsPerSecond,
    crashes,
    repeatApplies: options.repeatApplies === true,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...(options.mixed
      ? { mixed: { events: deliveries.length, wrongFinalState, commentsMissing, commentsDoubled } }
      : {}),
    ok: settled && lostIncidents.length === 0 && closedMoreThanOnce === 0 && commentsMissing === 0,
  };
}

interface Delivery {
  id: string;
  action: 'close' | 'reopen' | 'comment';
  /** `occurredAt`, or '' for the plain close-only run. */
  at: string;
  /** A text that must reach ESET (a comment, a close's final comment, a reopen's comment). */
  text?: string;
  body: string;
}

function closeOnly(id: string): Delivery {
  const comment = `Chaos ${id}`;
  const body = JSON.stringify({
    incidentUuid: id,
    closureReason: 'true-positive',
    comment,
    ticketId: `CH-${id.slice(0, 6)}`,
  });
  return { id, action: 'close', at: '', text: comment, body };
}

/**
 * A ticket's life per incident: closed, sometimes reopened (with a note) and closed again, with
 * comments in between, each event stamped with when it happened; all deliveries shuffled.
 */
function lives(ids: readonly string[], seed: number): Delivery[] {
  const random = seeded(seed);
  const all: Delivery[] = [];
  ids.forEach((id, n) => {
    const steps: Array<'close' | 'reopen' | 'comment'> = ['close'];
    if (random() < 0.5) steps.push('reopen', ...(random() < 0.5 ? (['close'] as const) : []));
    const comments = Math.floor(random() * 3);
    for (let c = 0; c < comments; c++) steps.splice(1 + Math.floor(random() * steps.length), 0, 'comment');
    steps.forEach((action, i) => {
      const at = new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + n * 60_000 + i * 1000).toISOString();
      const text = `${action} ${i} of ${id.slice(0, 8)}`;
      const withText = action !== 'reopen' || random() < 0.5;
      const body = JSON.stringify({
        action,
        incidentUuid: id,
        ...(action === 'close' ? { closureReason: 'true-positive' } : {}),
        ...(withText ? { comment: text } : {}),
        ticketId: `CH-${id.slice(0, 6)}`,
        occurredAt: at,
      });
      all.push({ id, action, at, ...(withText ? { text } : {}), body });
    });
  });
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as Delivery, all[i] as Delivery];
  }
  return all;
}

/** mulberry32: the same seed gives the same lives and order on every machine. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function tryIncident(body: string | undefined): string | undefined {
  try {
    const v = JSON.parse(body ?? '') as { incidentUuid?: unknown; request?: { incidentUuid?: unknown } };
    const id = v.incidentUuid ?? v.request?.incidentUuid;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function readAll(sqs: import('@aws-sdk/client-sqs').SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let i = 0; i < 1000; i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    const got = res.Messages ?? [];
    if (got.length === 0) break;
    all.push(...got);
  }
  return all;
}

/** The table printed by `npm run chaos`. */
export function formatReport(r: ChaosReport): string {
  const rows: Array<[string, string]> = [
    ['incidents sent', String(r.incidents)],
    ['accepted (200/202)', String(r.accepted)],
    ['closed', String(r.closed)],
    ['closed more than once', String(r.closedMoreThanOnce)],
    ['dead-lettered', String(Object.values(r.deadLettered).reduce((a, b) => a + b, 0))],
    ...Object.entries(r.deadLettered).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
    ['lost (accepted, neither closed nor dead-lettered)', String(r.lost)],
    ...(r.settled
      ? []
      : [['unsettled (still in the retry queue at the end)', String(r.unsettled)] as [string, string]]),
    [
      'answers',
      Object.entries(r.answers)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    ],
    [
      'ESET calls',
      `${r.esetCalls} (${Object.entries(r.esetCallsByStatus)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')})`,
    ],
    ['ESET calls per close', String(r.esetCallsPerClose)],
    ['highest ESET calls in any second', `${r.maxEsetCallsPerSecond} (limit ${r.esetLimitPerSecond})`],
    ["refused by ESET's rate limit (429)", `${r.refusedByLimit} (${r.refusedByLimitShare} % of calls)`],
    [
      'ESET calls per second while busy (median)',
      `${r.busyCallsPerSecond} (${Math.round((r.busyCallsPerSecond / r.esetLimitPerSecond) * 100)} % of the limit)`,
    ],
    ...(r.mixed
      ? ([
          ['ticket events delivered (shuffled)', String(r.mixed.events)],
          ["incidents not in their latest event's state", String(r.mixed.wrongFinalState)],
          ['comments missing / doubled at ESET', `${r.mixed.commentsMissing} / ${r.mixed.commentsDoubled}`],
        ] as Array<[string, string]>)
      : []),
    ['bridge crashes (SIGKILL)', String(r.crashes)],
    ['ESET applies repeats again', r.repeatApplies ? 'yes (and some 500s were applied)' : 'no'],
    ['time', `${r.seconds} s`],
    [
      'result',
      r.ok ? 'OK: nothing lost, nothing closed twice' : r.settled ? 'FAILED' : 'FAILED: did not settle',
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
