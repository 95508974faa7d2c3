/**
 * Warm overhead: the median warm invocation of a deployed receive Lambda closing an incident
 * against a loopback ESET stand-in, over the median bare `fetch` of the same close request to the
 * same stand-in, both from the same child process in alternation. The function's state lives in
 * DynamoDB as deployed (dynalite here, in this process): its round trips are counted and timed.
 *
 * The child runs with the function's deployed environment (NODE_OPTIONS included) except what
 * only AWS has: ESET points at the stand-in, DynamoDB at dynalite, the secrets are given as values
 * (Secrets Manager is read once per five minutes, never on the warm path). Invocations start
 * further apart than the shared budget's slots (110 ms at ESET's 10 per second), so that pacing
 * does not count.
 */
import { spawn } from 'node:child_process';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { startLocalStateStore } from '../../infra/local/state-store';
import type { BenchFiles } from './build';
import type { DeployedFunction } from './deployed';
import { startLoopbackEset } from './loopback-eset';
import { median, percentile } from './stats';
import type { WarmSamples } from './warm-worker';

export interface WarmResult {
  samples: number;
  handlerMedianMs: number;
  fetchMedianMs: number;
  handlerP90Ms: number;
  fetchP90Ms: number;
  ratio: number;
  statuses: Record<string, number>;
  /** Median time of one invocation in DynamoDB round trips, and the rest of it (median of each). */
  dynamoMedianMs: number;
  handlerLessDynamoMedianMs: number;
  /** DynamoDB round trips per close (median), and the operations behind them, per close. */
  dynamoTripsPerClose: number;
  dynamoOpsPerClose: Record<string, number>;
  /** Median round trip of each DynamoDB operation, ms. */
  dynamoOpMedianMs: Record<string, number>;
  /** ESET requests per invocation (closes; token requests over the whole run). */
  esetClosesPerInvocation: number;
  tokenRequests: number;
}

const BLOCKS_DEFAULT = 1;

/** One child process: `rounds` measured rounds of 9 invocations and 9 bare fetches. */
async function runWorker(
  files: BenchFiles,
  fn: DeployedFunction,
  opts: { rounds: number; warmupRounds: number; env?: Record<string, string> },
): Promise<{ samples: WarmSamples; esetCloses: number; tokenRequests: number }> {
  const eset = await startLoopbackEset();
  const state = await startLocalStateStore();
  try {
    // The state table the function is deployed with (STATE_TABLE; older releases: IDEMPOTENCY_TABLE).
    const tables = Object.fromEntries(
      ['STATE_TABLE', 'IDEMPOTENCY_TABLE'].filter((k) => fn.env[k]).map((k) => [k, state.tableName]),
    );
    const child = spawn(process.execPath, [files.warmWorker], {
      cwd: fn.codeDir,
      env: {
        ...fn.env,
        LAMBDA_TASK_ROOT: fn.codeDir,
        _HANDLER: fn.handler,
        ESET_API_URL: eset.url,
        ESET_AUTH_URL: eset.url,
        ESET_USERNAME: 'bench-api-user@example.com',
        ESET_PASSWORD: 'bench-password',
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        ...tables,
        AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
        // The worker spaces invocations by it (120 ms), past the budget's 110 ms slots.
        ESET_MAX_RPS: '10',
        BENCH_ROUNDS: String(opts.rounds),
        BENCH_WARMUP_ROUNDS: String(opts.warmupRounds),
        ...opts.env,
      },
      // Logs and EMF go to a pipe, as in Lambda; the parent reads and drops them.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.resume();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const samples = await new Promise<WarmSamples>((resolve, reject) => {
      child.once('message', (m) => resolve(m as WarmSamples));
      child.once('exit', (code) =>
        reject(new Error(`warm worker exited (${code}): ${stderr.slice(0, 2000)}`)),
      );
    });
    return { samples, esetCloses: eset.counts.close - samples.fetches, tokenRequests: eset.counts.token };
  } finally {
    await eset.close();
    await state.close();
  }
}

/**
 * Warm invocations of `fn`. With `blocks` > 1 the rounds are split over that many child processes,
 * so that two functions measured block by block in alternation (`measureWarmPair`) share the
 * machine's drift.
 */
export async function measureWarm(
  files: BenchFiles,
  fn: DeployedFunction,
  opts: { rounds: number; warmupRounds?: number; env?: Record<string, string>; blocks?: number },
): Promise<WarmResult> {
  const blocks = opts.blocks ?? BLOCKS_DEFAULT;
  const runs = [];
  for (let b = 0; b < blocks; b++) runs.push(await runWorker(files, fn, blockOpts(opts, b, blocks)));
  return summarize(runs);
}

/** Two receive functions (this one and an older release) block by block in alternation. */
export async function measureWarmPair(
  files: BenchFiles,
  a: DeployedFunction,
  b: DeployedFunction,
  opts: { rounds: number; warmupRounds?: number; blocks: number; envB?: Record<string, string> },
): Promise<[WarmResult, WarmResult]> {
  const runsA = [];
  const runsB = [];
  for (let k = 0; k < opts.blocks; k++) {
    const o = blockOpts(opts, k, opts.blocks);
    // Alternate which goes first.
    if (k % 2 === 0) {
      runsA.push(await runWorker(files, a, o));
      runsB.push(await runWorker(files, b, { ...o, ...(opts.envB ? { env: opts.envB } : {}) }));
    } else {
      runsB.push(await runWorker(files, b, { ...o, ...(opts.envB ? { env: opts.envB } : {}) }));
      runsA.push(await runWorker(files, a, o));
    }
  }
  return [summarize(runsA), summarize(runsB)];
}

function blockOpts(
  opts: { rounds: number; warmupRounds?: number; env?: Record<string, string> },
  k: number,
  blocks: number,
): { rounds: number; warmupRounds: number; env?: Record<string, string> } {
  const rounds = Math.floor(opts.rounds / blocks) + (k < opts.rounds % blocks ? 1 : 0);
  return {
    rounds: Math.max(1, rounds),
    warmupRounds: opts.warmupRounds ?? 3,
    ...(opts.env ? { env: opts.env } : {}),
  };
}

function summarize(runs: { samples: WarmSamples; esetCloses: number; tokenRequests: number }[]): WarmResult {
  const all = (f: (s: WarmSamples) => number[]) => runs.flatMap((r) => f(r.samples));
  const handlerMs = all((s) => s.handlerMs);
  const fetchMs = all((s) => s.fetchMs);
  const dynamoMs = all((s) => s.dynamoMs);
  const lessDynamo = handlerMs.map((h, i) => h - (dynamoMs[i] ?? 0));
  const statuses: Record<string, number> = {};
  const ops: Record<string, number> = {};
  let invocations = 0;
  for (const { samples } of runs) {
    invocations += samples.invocations;
    for (const [k, v] of Object.entries(samples.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(samples.dynamoOps)) ops[k] = (ops[k] ?? 0) + v;
  }
  const handlerMedianMs = median(handlerMs);
  const fetchMedianMs = median(fetchMs);
  const per = (n: number) => Math.round((n / Math.max(1, handlerMs.length)) * 100) / 100;
  return {
    samples: handlerMs.length,
    handlerMedianMs,
    fetchMedianMs,
    handlerP90Ms: percentile(handlerMs, 90),
    fetchP90Ms: percentile(fetchMs, 90),
    ratio: handlerMedianMs / fetchMedianMs,
    statuses,
    dynamoMedianMs: median(dynamoMs),
    handlerLessDynamoMedianMs: median(lessDynamo),
    dynamoTripsPerClose: median(all((s) => s.dynamoTrips)),
    dynamoOpsPerClose: Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, per(v)])),
    dynamoOpMedianMs: Object.fromEntries(
      Object.keys(ops).map((op) => [op, median(runs.flatMap((r) => r.samples.dynamoOpMs[op] ?? []))]),
    ),
    esetClosesPerInvocation:
      Math.round((runs.reduce((a, r) => a + r.esetCloses, 0) / Math.max(1, invocations)) * 100) / 100,
    tokenRequests: runs.reduce((a, r) => a + r.tokenRequests, 0),
  };
}
