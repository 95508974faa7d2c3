import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { localSqsClient, queueDepth } from '../../infra/local/queues';
import { LOCAL_WEBHOOK_SECRET } from '../../infra/local/runtime';
import { LOCAL_WEBHOOK_SECRET as SEND_DEFAULT_SECRET } from '../../infra/local/send';
import {
  admin,
  type BridgeProcess,
  DEMO,
  postClose,
  type ReadyInfo,
  runTs,
  SEND,
  spawnBridge,
} from './bridge-process';

const CLOSED = 'INCIDENT_STATUS_CLOSED';

describe('npm start: the bridge in one process (embedded SQS and ESET sandbox)', () => {
  let bridge: BridgeProcess;
  let ready: ReadyInfo;

  beforeAll(async () => {
    bridge = spawnBridge({ SANDBOX_SEED_INCIDENTS: '2' });
    ready = await bridge.ready;
  });

  afterAll(() => bridge?.kill());

  async function newIncidents(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await admin.post(ready.esetApiUrl, 'incidents', { incidents: ids.map((uuid) => ({ uuid })) });
    return ids;
  }

  it('prints ready with every URL, the local secret and open seeded incidents', async () => {
    const state = await admin.state(ready.esetApiUrl);

    expect(ready).toMatchObject({
      webhookUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/),
      sqsEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      retryQueueUrl: expect.stringContaining('eset-close-bridge-retry'),
      deadLetterQueueUrl: expect.stringContaining('eset-close-bridge-dlq'),
      esetApiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      eset: 'sandbox',
      webhookSecret: { source: 'local default', value: LOCAL_WEBHOOK_SECRET },
    });
    expect(ready.incidents).toHaveLength(2);
    for (const id of ready.incidents) expect(state.incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(SEND_DEFAULT_SECRET).toBe(LOCAL_WEBHOOK_SECRET);
  });

  it('closes a signed request at once: 200, closed in the sandbox, one outcome line', async () => {
    const [id] = (await newIncidents(1)) as [string];

    const answer = await postClose(ready.webhookUrl, LOCAL_WEBHOOK_SECRET, id);

    expect(answer).toEqual({ status: 200, body: { status: 'closed', incidentUuid: id } });
    const incident = (await admin.state(ready.esetApiUrl)).incidents[id];
    expect(incident).toMatchObject({
      status: CLOSED,
      resolveReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      closesApplied: 1,
    });
    expect(await bridge.line(new RegExp(`${id} closed +close +ESET 200 +\\[receive\\]`))).toBeDefined();
  });

  it('queues 503, 429 and 202 answers and closes each through the retry Lambda, once', async () => {
    const [r503, r429, pending] = (await newIncidents(3)) as [string, string, string];
    await admin.post(ready.esetApiUrl, 'script', {
      uuid: r503,
      steps: [{ kind: 'status', status: 503, retryAfter: '1' }],
    });
    await admin.post(ready.esetApiUrl, 'script', { uuid: r429, steps: [{ kind: 'status', status: 429 }] });
    await admin.post(ready.esetApiUrl, 'script', {
      uuid: pending,
      steps: [{ kind: 'pending', resendsUntilReady: 1 }],
    });

    const answers = await Promise.all(
      [r503, r429, pending].map((id) => postClose(ready.webhookUrl, LOCAL_WEBHOOK_SECRET, id)),
    );

    // A 503 may have been applied (unknown: read before closing again); a 429 applied nothing.
    expect(answers.map((a) => [a.status, a.body.status, a.body.reason])).toEqual([
      [202, 'queued', 'unknown'],
      [202, 'queued', 'retry'],
      [202, 'queued', 'pending'],
    ]);
    // The sandbox applies a pending close at once; the retry Lambda's line says when it is done.
    for (const id of [r503, r429, pending]) {
      expect(await bridge.line(new RegExp(`${id} closed +close +ESET 200 +\\[retry\\]`))).toBeDefined();
    }
    const state = await admin.state(ready.esetApiUrl);
    for (const id of [r503, r429, pending]) {
      expect(state.incidents[id]).toMatchObject({ status: CLOSED, closesApplied: 1 });
    }
    expect(
      await bridge.line(new RegExp(`${r503} queued +close +ESET 503 +\\[receive\\] unknown`)),
    ).toBeDefined();
    expect(
      state.calls.filter((c) => c.path.includes(pending) && c.responseIdResend).map((c) => c.status),
    ).toEqual([202, 200]);
    const sqs = localSqsClient(ready.sqsEndpoint);
    try {
      const dlq = await queueDepth(sqs, ready.deadLetterQueueUrl);
      expect(dlq.visible + dlq.inFlight + dlq.delayed).toBe(0);
    } finally {
      sqs.destroy();
    }
  });

  it('answers 404 with ESET’s reason for an incident ESET does not know, and queues nothing', async () => {
    const unknown = randomUUID();

    const answer = await postClose(ready.webhookUrl, LOCAL_WEBHOOK_SECRET, unknown);

    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ status: 'rejected', incidentUuid: unknown, esetStatus: 404 });
    expect(await bridge.line(new RegExp(`${unknown} rejected +close +ESET 404`))).toBeDefined();
  });

  it('answers 401 to a request signed with another secret, and ESET never hears of it', async () => {
    const [id] = (await newIncidents(1)) as [string];

    const answer = await postClose(ready.webhookUrl, TEST_WEBHOOK_SECRET, id);

    expect(answer.status).toBe(401);
    const state = await admin.state(ready.esetApiUrl);
    expect(state.incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(state.calls.some((c) => c.path.includes(id))).toBe(false);
  });

  it('npm run send signs with the local secret, posts and prints the answer', async () => {
    const id = ready.incidents[0] as string;

    const send = runTs(
      SEND,
      ['--incident', id, '--reason', 'suspicious', '--comment', 'From send', '--url', ready.webhookUrl],
      {},
    );
    const code = await send.exited;

    expect(code).toBe(0);
    expect(send.lines[0]).toBe(`200 {"status":"closed","incidentUuid":"${id}"}`);
    expect((await admin.state(ready.esetApiUrl)).incidents[id]).toMatchObject({
      status: CLOSED,
      resolveReason: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
    });
  });

  it('npm run demo drives a fault mix through the running bridge until every request settles', async () => {
    // The first 8 scenarios: everything but the slow hang. The unknown incident is rejected at once,
    // or dead-lettered when ESET's rate limit (429) had it queued first.
    const demo = runTs(DEMO, ['--count', '8', '--url', ready.webhookUrl, '--timeout', '30'], {});
    const code = await demo.exited;

    expect(code).toBe(0);
    expect(demo.lines.some((l) => l.startsWith('progress: '))).toBe(true);
    expect(demo.lines.at(-1)).toMatch(
      /^summary: 6 closed, (1 dead-lettered, 1 rejected|2 dead-lettered, 0 rejected); no incident closed twice/,
    );
  });

  it('stops on SIGINT with exit code 0 and a summary', async () => {
    const code = await bridge.stop('SIGINT');

    expect(code).toBe(0);
    const summary = bridge.lines.find((l) => l.startsWith('summary: ')) ?? '';
    expect(summary).toMatch(
      /^summary: \d+ webhook request\(s\) \(200: \d+, 202: \d+, 401: 1, 404: \d+\); closed \d+/,
    );
    expect(summary).toMatch(/in the DLQ [12]$/);
  });
});
