import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { localSqsClient, queueDepth, startSqsServer } from '../../infra/local/queues';
import { type LocalStateStore, startLocalStateStore } from '../../infra/local/state-store';
import { type BridgeProcess, postClose, spawnBridge, until } from './bridge-process';

const CLOSED = 'INCIDENT_STATUS_CLOSED';

let bridges: BridgeProcess[] = [];
let sandbox: EsetSandbox | undefined;
let sqsServer: Server | undefined;
let sqs: SQSClient | undefined;
let state: LocalStateStore | undefined;

afterEach(async () => {
  for (const b of bridges) b.kill();
  bridges = [];
  sqs?.destroy();
  await state?.close();
  state = undefined;
  await sandbox?.close();
  await new Promise<void>((resolve) => (sqsServer ? sqsServer.close(() => resolve()) : resolve()));
  sandbox = undefined;
  sqsServer = undefined;
  sqs = undefined;
});

const total = (d: { visible: number; inFlight: number; delayed: number }) =>
  d.visible + d.inFlight + d.delayed;

describe('npm start with AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_DYNAMODB: queued work survives a restart', () => {
  it('loses nothing on SIGTERM with messages in flight; the restarted bridge closes each incident once', async () => {
    // Prepare: SQS, DynamoDB (the incident records) and ESET outlive the bridge, as they do in AWS.
    const started = await startSqsServer();
    sqsServer = started.server;
    sqs = localSqsClient(started.endpoint);
    state = await startLocalStateStore();
    sandbox = await createEsetSandbox();
    const env = {
      AWS_ENDPOINT_URL_SQS: started.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
      STATE_TABLE: state.tableName,
      QUEUE_PREFIX: `restart-${randomUUID().slice(0, 8)}`,
      ESET_API_URL: sandbox.url,
      ESET_AUTH_URL: sandbox.url,
      ESET_USERNAME: 'sandbox-user',
      ESET_PASSWORD: 'sandbox-password',
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    };
    const sb = sandbox;
    const incidents = {
      // 503 now; on the retry ESET holds the call (the bridge is stopped meanwhile) and answers 504.
      slowA: [
        { kind: 'status', status: 503, retryAfter: '1' },
        { kind: 'hang', ms: 1_500, applied: false },
      ],
      slowB: [
        { kind: 'status', status: 503, retryAfter: '1' },
        { kind: 'hang', ms: 1_500, applied: false },
      ],
      // 202: the bridge re-sends with response-id, before and after the restart.
      pending: [{ kind: 'pending', resendsUntilReady: 2 }],
      // Still delayed in the queue when the bridge stops.
      delayed: [{ kind: 'status', status: 503, retryAfter: '4' }],
    } as const;
    const ids = Object.fromEntries(Object.keys(incidents).map((name) => [name, randomUUID()])) as Record<
      keyof typeof incidents,
      string
    >;
    for (const [name, steps] of Object.entries(incidents)) {
      const id = ids[name as keyof typeof incidents];
      sb.addIncident(id);
      sb.script(id, [...steps]);
    }

    const first = spawnBridge(env);
    bridges.push(first);
    const ready = await first.ready;
    expect(ready.eset).toBe('external');
    expect(ready.sqsEndpoint).toBe(started.endpoint);
    const answers = await Promise.all(
      Object.values(ids).map((id) => postClose(ready.webhookUrl, TEST_WEBHOOK_SECRET, id)),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);

    // Act: SIGTERM while the retry Lambda holds a batch whose ESET calls are still open.
    await until(() => (sb.state().hanging > 0 ? true : undefined), 'the retry Lambda to be mid-batch');
    const code = await first.stop('SIGTERM');

    // Assess: a clean exit that finished the calls in hand (no 499 = no call abandoned) ...
    expect(code).toBe(0);
    const summary = first.lines.find((l) => l.startsWith('summary: ')) ?? '';
    expect(summary).toMatch(/left in the retry queue \d+ \(picked up on the next start\)/);
    const afterStop = sb.state();
    expect(afterStop.hanging).toBe(0);
    expect(afterStop.callsByStatus['499']).toBeUndefined();
    expect(afterStop.incidents[ids.delayed]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(total(await queueDepth(sqs, ready.retryQueueUrl))).toBeGreaterThanOrEqual(3);

    // ... and a restart that finishes every piece of work, each incident closed exactly once.
    const second = spawnBridge(env);
    bridges.push(second);
    const again = await second.ready;
    expect(again.retryQueueUrl).toBe(ready.retryQueueUrl);
    const q = sqs;
    await until(
      async () => {
        const s = sb.state();
        const allClosed = Object.values(ids).every((id) => s.incidents[id]?.status === CLOSED);
        return allClosed && total(await queueDepth(q, ready.retryQueueUrl)) === 0 ? true : undefined;
      },
      'every incident closed and the retry queue empty',
      20_000,
      100,
    );
    const final = sb.state();
    for (const id of Object.values(ids)) expect(final.incidents[id]?.closesApplied).toBe(1);
    expect(total(await queueDepth(sqs, ready.deadLetterQueueUrl))).toBe(0);
    const resends = final.calls.filter((c) => c.path.includes(ids.pending) && c.responseIdResend);
    expect(resends.at(-1)?.status).toBe(200);
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});
