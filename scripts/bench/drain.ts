/**
 * Drain: N closes queued on a real local SQS queue, ESET (the sandbox) limiting to R calls per
 * second per API user, the bridge taking its calls from the tenant's shared budget (the state table
 * in dynalite; slots 110 ms apart at R = 10). Several pollers (as Lambda's event source mapping with
 * concurrency) feed the bundled retry Lambda in one child process. Achieved closes per second over R, the share of ESET calls answered 429,
 * and the worker's peak resident memory.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createEsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { queueDepth, setUpQueues } from '../../infra/local/queues';
import { SqsEventSource } from '../../infra/local/sqs-event-source';
import { startLocalStateStore } from '../../infra/local/state-store';
import type { BenchFiles } from './build';
import type { DeployedFunction } from './deployed';
import type { FromWorker, ToWorker } from './drain-worker';

export interface DrainResult {
  closes: number;
  rate: number;
  pollers: number;
  seconds: number;
  closesPerSecond: number;
  drainRatio: number;
  esetCalls: number;
  calls429: number;
  fraction429: number;
  maxCallsInAnySecond: number;
  closedOnce: number;
  closedTwice: number;
  deadLettered: number;
  peakRssMb: number;
  peakRssSampledMb: number;
  idleRssMb: number;
  memoryTrace: Extract<FromWorker, { type: 'memory' }>['trace'];
}

const USER = 'bench-api-user@example.com';
const PASSWORD = 'bench-password';

export async function measureDrain(
  files: BenchFiles,
  retry: DeployedFunction,
  opts: {
    closes: number;
    rate: number;
    pollers: number;
    log?: (line: string) => void;
    env?: Record<string, string>;
  },
): Promise<DrainResult> {
  const { closes, rate, pollers } = opts;
  let closed200 = 0;
  let doneAt = 0;
  let allClosed: () => void = () => {};
  const closedAll = new Promise<void>((resolve) => {
    allClosed = resolve;
  });
  const sandbox = await createEsetSandbox({
    username: USER,
    password: PASSWORD,
    rateLimitPerSecond: rate,
    onRequest: (e) => {
      if (e.kind === 'api' && e.method === 'POST' && e.status === 200 && e.path.endsWith(':close')) {
        closed200 += 1;
        if (closed200 === closes) {
          doneAt = performance.now();
          allClosed();
        }
      }
    },
  });
  const stateStore = await startLocalStateStore();
  const queues = await setUpQueues({
    prefix: `bench-${randomUUID().slice(0, 8)}`,
    visibilityTimeoutSeconds: 120,
    maxReceiveCount: 10,
  });
  const sources: SqsEventSource[] = [];
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // Queue the closes as messages queued before an upgrade (v1): each becomes a close event on its
    // incident's record, closed by the fast path, as the receive Lambda would close it.
    const incidents = Array.from({ length: closes }, () => randomUUID());
    for (const id of incidents) sandbox.addIncident(id);
    const firstSeen = new Date().toISOString();
    const bodies = incidents.map((incidentUuid, i) =>
      JSON.stringify({
        v: 1,
        request: {
          incidentUuid,
          closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
          comment: `Closed by the drain benchmark (${i}).`,
          ticketId: `BENCH-${i}`,
        },
        phase: 'close',
        attempt: 1,
        firstSeen,
        correlationId: `bench-${i}`,
      }),
    );
    const batches: string[][] = [];
    for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
    for (let i = 0; i < batches.length; i += 20) {
      await Promise.all(
        batches.slice(i, i + 20).map(async (batch) => {
          const res = await queues.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queues.retryQueueUrl,
              Entries: batch.map((MessageBody, j) => ({ Id: String(j), MessageBody })),
            }),
          );
          if ((res.Failed ?? []).length > 0)
            throw new Error(`SendMessageBatch failed: ${JSON.stringify(res.Failed)}`);
        }),
      );
    }
    opts.log?.(`drain: ${closes} closes queued; draining at ESET ${rate}/s with ${pollers} pollers`);

    // The retry worker: a child process, so its memory is its own.
    // The deployed function's environment (NODE_OPTIONS included), pointed at the local services.
    const worker = spawn(process.execPath, [files.drainWorker], {
      cwd: retry.codeDir,
      env: {
        ...retry.env,
        LAMBDA_TASK_ROOT: retry.codeDir,
        _HANDLER: retry.handler,
        ESET_API_URL: sandbox.url,
        ESET_AUTH_URL: sandbox.url,
        ESET_USERNAME: USER,
        ESET_PASSWORD: PASSWORD,
        RETRY_QUEUE_URL: queues.retryQueueUrl,
        DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
        ESET_MAX_RPS: String(rate),
        RETRY_BASE_SECONDS: '1',
        RETRY_MAX_DELAY_SECONDS: '5',
        ESET_SETTLE_SECONDS: '1',
        PENDING_RESEND_SECONDS: '1',
        AWS_ENDPOINT_URL_SQS: queues.endpoint,
        STATE_TABLE: stateStore.tableName,
        AWS_ENDPOINT_URL_DYNAMODB: stateStore.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_SESSION_TOKEN: '',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child = worker;
    worker.stdout?.resume();
    let stderr = '';
    worker.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const pending = new Map<number, (m: Extract<FromWorker, { type: 'result' }>) => void>();
    let memory: Extract<FromWorker, { type: 'memory' }> | undefined;
    let idleRssMb = 0;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          idleRssMb = m.rssMb;
          resolve();
        } else if (m.type === 'result') pending.get(m.id)?.(m);
        else memory = m;
      });
      worker.once('exit', (code) => {
        if (!memory) reject(new Error(`drain worker exited (${code}): ${stderr.slice(0, 2000)}`));
      });
    });
    await ready;
    let nextId = 0;
    const invoke = (event: SQSEvent) =>
      new Promise<SQSBatchResponse>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, (m) => {
          pending.delete(id);
          if (m.error || !m.result) reject(new Error(m.error ?? 'no result'));
          else resolve(m.result);
        });
        worker.send({ type: 'invoke', id, event } satisfies ToWorker);
      });

    const started = performance.now();
    for (let i = 0; i < pollers; i++) {
      const source = new SqsEventSource({
        sqs: queues.sqs,
        queueUrl: queues.retryQueueUrl,
        handler: invoke,
        batchSize: 10,
        waitTimeSeconds: 1,
      });
      sources.push(source);
      source.start();
    }
    const limitMs = ((closes / rate) * 3 + 60) * 1000;
    const progress = setInterval(() => opts.log?.(`drain: ${closed200}/${closes} closed`), 30_000);
    const timedOut = await Promise.race([
      closedAll.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), limitMs).unref()),
    ]);
    clearInterval(progress);
    if (timedOut) throw new Error(`drain did not finish within ${limitMs / 1000} s (${closed200}/${closes})`);
    // Let the last batches be deleted, then stop polling.
    for (let i = 0; i < 100; i++) {
      const d = await queueDepth(queues.sqs, queues.retryQueueUrl);
      if (d.visible + d.inFlight + d.delayed === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(sources.map((s) => s.stop()));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.send({ type: 'stop' } satisfies ToWorker);
    await exited;
    if (!memory) throw new Error('the drain worker reported no memory figures');

    const state = sandbox.state();
    const esetCalls = state.calls.length;
    const calls429 = state.callsByStatus['429'] ?? 0;
    const applied = Object.values(state.incidents).map((i) => i.closesApplied);
    const dlq = await queueDepth(queues.sqs, queues.deadLetterQueueUrl);
    const seconds = (doneAt - started) / 1000;
    return {
      closes,
      rate,
      pollers,
      seconds,
      closesPerSecond: closes / seconds,
      drainRatio: closes / seconds / rate,
      esetCalls,
      calls429,
      fraction429: esetCalls === 0 ? 0 : calls429 / esetCalls,
      maxCallsInAnySecond: state.maxCallsInAnySecond,
      closedOnce: applied.filter((n) => n === 1).length,
      closedTwice: applied.filter((n) => n > 1).length,
      deadLettered: dlq.visible + dlq.inFlight + dlq.delayed,
      peakRssMb: memory.maxRssMb,
      peakRssSampledMb: memory.peakSampledMb,
      idleRssMb,
      memoryTrace: memory.trace,
    };
  } finally {
    await Promise.all(sources.map((s) => s.stop()));
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await sandbox.close();
    await queues.close();
    await stateStore.close();
  }
}
