/**
 * Child process of the drain benchmark (bundled by scripts/bench/build.ts): the retry worker. It
 * loads the deployed retry Lambda once, like a container, and runs the SQS events the parent's
 * pollers hand it over IPC (as Lambda's event source mapping invokes the function). It samples its
 * own resident memory and reports the peak when told to stop.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export type ToWorker = { type: 'invoke'; id: number; event: SQSEvent } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; rssMb: number }
  | { type: 'result'; id: number; result?: SQSBatchResponse; error?: string }
  | {
      type: 'memory';
      peakSampledMb: number;
      maxRssMb: number;
      heapUsedMb: number;
      /** Every `BENCH_TRACE_MS` (default 10 s): resident and heap memory, MiB, to tell growth from a plateau. */
      trace: { s: number; rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number }[];
    };

const MB = 1024 * 1024;
const send = (m: FromWorker) => process.send?.(m);

// The handler as the Lambda runtime finds it: `_HANDLER` (`index.handler`) in `LAMBDA_TASK_ROOT`.
const spec = process.env._HANDLER as string;
const dot = spec.lastIndexOf('.');
const mod = (await import(
  pathToFileURL(join(process.env.LAMBDA_TASK_ROOT as string, `${spec.slice(0, dot)}.mjs`)).href
)) as Record<string, (event: SQSEvent) => Promise<SQSBatchResponse>>;
const handler = mod[spec.slice(dot + 1)] as (event: SQSEvent) => Promise<SQSBatchResponse>;

let peak = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 50);
const trace: Extract<FromWorker, { type: 'memory' }>['trace'] = [];
const startedAt = performance.now();
const tracer = setInterval(
  () => {
    const m = process.memoryUsage();
    trace.push({
      s: Math.round((performance.now() - startedAt) / 1000),
      rssMb: Math.round(m.rss / MB),
      heapUsedMb: Math.round(m.heapUsed / MB),
      heapTotalMb: Math.round(m.heapTotal / MB),
      externalMb: Math.round(m.external / MB),
    });
  },
  Number(process.env.BENCH_TRACE_MS ?? 10_000),
);

process.on('message', (m: ToWorker) => {
  if (m.type === 'invoke') {
    handler(m.event).then(
      (result) => send({ type: 'result', id: m.id, result }),
      (err: unknown) => send({ type: 'result', id: m.id, error: String(err) }),
    );
    return;
  }
  clearInterval(sampler);
  clearInterval(tracer);
  peak = Math.max(peak, process.memoryUsage.rss());
  process.send?.(
    {
      type: 'memory',
      peakSampledMb: peak / MB,
      // The kernel's high-water mark, which catches peaks between samples.
      maxRssMb: highWaterMarkMb(),
      heapUsedMb: process.memoryUsage().heapUsed / MB,
      trace,
    } satisfies FromWorker,
    () => process.exit(0),
  );
});

/**
 * This process's peak resident memory: `VmHWM` of /proc/self/status, which belongs to the process
 * image since its exec. (`getrusage`'s maxRSS is not: on Linux it keeps the high-water mark of the
 * parent the child was forked from, here the benchmark itself.) Elsewhere, the sampled peak.
 */
function highWaterMarkMb(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) / 1024;
  } catch {
    // not Linux
  }
  return peak / MB;
}

send({ type: 'ready', rssMb: process.memoryUsage.rss() / MB });
