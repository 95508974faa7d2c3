/**
 * Child process of the drain benchmark (bundled by scripts/bench/build.ts): the retry worker. It
 * loads the bundled retry Lambda once, like a container, and runs the SQS events the parent's
 * pollers hand it over IPC (as Lambda's event source mapping invokes the function). It samples its
 * own resident memory and reports the peak when told to stop.
 */
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

const { handler } = (await import(pathToFileURL(process.env.BENCH_ENTRY as string).href)) as {
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
};

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
      // The kernel's high-water mark (KiB), which catches peaks between samples.
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      heapUsedMb: process.memoryUsage().heapUsed / MB,
      trace,
    } satisfies FromWorker,
    () => process.exit(0),
  );
});

send({ type: 'ready', rssMb: process.memoryUsage.rss() / MB });
