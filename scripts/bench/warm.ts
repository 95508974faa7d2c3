/**
 * Warm overhead: the median warm invocation of the bundled receive Lambda closing an incident
 * against a loopback ESET stand-in, over the median bare `fetch` of the same close request to the
 * same stand-in, both from the same child process in alternation.
 */
import { spawn } from 'node:child_process';
import { startLocalStateStore } from '../../infra/local/state-store';
import type { Bundles } from './build';
import { startLoopbackEset } from './loopback-eset';
import { lambdaEnv, median, percentile } from './stats';
import type { WarmSamples } from './warm-worker';

export interface WarmResult {
  samples: number;
  handlerMedianMs: number;
  fetchMedianMs: number;
  handlerP90Ms: number;
  fetchP90Ms: number;
  ratio: number;
  statuses: Record<string, number>;
}

export async function measureWarm(
  b: Bundles,
  opts: { rounds: number; warmupRounds?: number; env?: Record<string, string>; entry?: string },
): Promise<WarmResult> {
  const eset = await startLoopbackEset();
  // The incident records, as deployed (DynamoDB; dynalite here, in this process).
  const state = await startLocalStateStore();
  try {
    const child = spawn(process.execPath, [b.warmWorker], {
      env: lambdaEnv({
        ESET_API_URL: eset.url,
        ESET_AUTH_URL: eset.url,
        STATE_TABLE: state.tableName,
        AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
        // The rounds start 9 closes per 1.15 s; the highest rate the bridge allows keeps them unpaced.
        ESET_MAX_RPS: '10',
        BENCH_ENTRY: opts.entry ?? b.receive.file,
        BENCH_ROUNDS: String(opts.rounds),
        BENCH_WARMUP_ROUNDS: String(opts.warmupRounds ?? 3),
        ...opts.env,
      }),
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
    const handlerMedianMs = median(samples.handlerMs);
    const fetchMedianMs = median(samples.fetchMs);
    return {
      samples: samples.handlerMs.length,
      handlerMedianMs,
      fetchMedianMs,
      handlerP90Ms: percentile(samples.handlerMs, 90),
      fetchP90Ms: percentile(samples.fetchMs, 90),
      ratio: handlerMedianMs / fetchMedianMs,
      statuses: samples.statuses,
    };
  } finally {
    await eset.close();
  }
}
