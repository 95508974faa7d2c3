import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/config';
import { json } from '../../functions/http/answers';
import { dynamoIdempotencyGuard } from '../../functions/idempotency/dynamodb-guard';
import { startLocalIdempotencyStore } from '../../functions/idempotency/local-store';
import { functionUrlEvent, signedHeaders } from '../../infra/local/events';
import { queueDepth } from '../../infra/local/queues';
import { closeCalls, type Harness, startHarness } from '../helpers/harness';
import { fixtureText, SENDERS_ENV, senderEvent } from '../senders/sender-events';

/**
 * Duplicate deliveries through the real receive handler, against the ESET sandbox, the local SQS
 * server and a real DynamoDB-protocol server (dynalite) holding the Powertools idempotency table.
 */
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const body = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;

/** A canonical close, signed as a Standard Webhooks sender signs each attempt: same id, fresh timestamp. */
function canonicalDelivery(
  incidentUuid: string,
  webhookId: string,
  extra: { comment?: string; closureReason?: string } = {},
) {
  const text = JSON.stringify({
    incidentUuid,
    closureReason: extra.closureReason ?? 'TRUE_POSITIVE',
    comment: extra.comment ?? 'Malware removed, host reimaged.',
    ticketId: 'SEC-4711',
  });
  return functionUrlEvent({ body: text, headers: signedHeaders(text, { id: webhookId }) });
}

/** Holds ESET close calls at a gate, so a duplicate can be sent while the first is in flight. */
function gatedFetch() {
  let open = true;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const waiting: (() => void)[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    if (!open && init?.method === 'POST' && String(input).endsWith(':close')) {
      for (const w of waiting.splice(0)) w();
      await gate;
    }
    return fetch(input, init);
  };
  return {
    fetch: fetchFn,
    /** Closes the gate; resolves when a close call is held at it. */
    hold(): Promise<void> {
      open = false;
      gate = new Promise((r) => {
        release = r;
      });
      return new Promise((r) => waiting.push(r));
    },
    release() {
      open = true;
      release();
    },
  };
}

describe('idempotency: a repeated delivery reaches ESET once and gets the first answer', () => {
  it('answers a sequential Standard Webhooks retry (same webhook-id) from the store', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    const first = await h.receive(canonicalDelivery(id, 'msg_2Lx7'));
    const again = await h.receive(canonicalDelivery(id, 'msg_2Lx7'));
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(again.headers).toMatchObject({ 'idempotent-replay': 'true' });
    expect(first.headers?.['idempotent-replay']).toBeUndefined();
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('treats a second delivery of the same close (another webhook-id) as the same close', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    await h.receive(canonicalDelivery(id, 'msg_from_rule_a'));
    const other = await h.receive(canonicalDelivery(id, 'msg_from_rule_b'));
    expect(other.headers).toMatchObject({ 'idempotent-replay': 'true' });
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
  });

  it.each([
    ['a Zendesk re-invocation', '/zendesk', 'zendesk-trigger', {}],
    [
      'a Jira retry (X-Atlassian-Webhook-Retry)',
      '/jira',
      'jira-issue-updated',
      { 'x-atlassian-webhook-retry': '1' },
    ],
    ['a TheHive re-send', '/thehive', 'thehive4-case-resolved', {}],
  ] as const)('answers %s from the store', async (_name, route, name, retryHeaders) => {
    h = await startHarness({ idempotency: true, env: SENDERS_ENV });
    const uuid = '123e4567-e89b-12d3-a456-426614174000';
    h.sandbox.addIncident(uuid);
    const first = await h.receive(senderEvent(route, fixtureText(name)));
    const retry = await h.receive(senderEvent(route, fixtureText(name), { headers: retryHeaders }));
    expect(first.statusCode).toBe(200);
    expect(retry).toMatchObject({
      statusCode: 200,
      body: first.body,
      headers: { 'idempotent-replay': 'true' },
    });
    expect(closeCalls(h.sandbox, uuid)).toHaveLength(1);
  });

  it('repeats a 404 from ESET without asking ESET again', async () => {
    h = await startHarness({ idempotency: true });
    const unknown = '0f0f0f0f-0000-4000-8000-000000000404';
    const first = await h.receive(canonicalDelivery(unknown, 'msg_404'));
    const again = await h.receive(canonicalDelivery(unknown, 'msg_404'));
    expect(first.statusCode).toBe(404);
    expect(again).toMatchObject({ statusCode: 404, body: first.body });
    expect(closeCalls(h.sandbox, unknown)).toHaveLength(1);
  });

  it('lets a different close of the same incident through (the key is the close, not the incident)', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    await h.receive(canonicalDelivery(id, 'msg_a'));
    const corrected = await h.receive(canonicalDelivery(id, 'msg_b', { closureReason: 'FALSE_POSITIVE' }));
    expect(corrected.headers?.['idempotent-replay']).toBeUndefined();
    expect(body(corrected)).toMatchObject({ status: 'closed', note: 'the incident was already closed' });
    expect(closeCalls(h.sandbox, id)).toHaveLength(2);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('answers concurrent duplicates 409 without a second ESET call, then with the first outcome', async () => {
    const gate = gatedFetch();
    h = await startHarness({ idempotency: true, overrides: { fetch: gate.fetch } });
    const id = h.newIncident();
    const held = gate.hold();
    const first = h.receive(canonicalDelivery(id, 'msg_c'));
    await held; // the first delivery is at ESET now
    const duplicates = await Promise.all(
      Array.from({ length: 4 }, (_, i) => h.receive(canonicalDelivery(id, `msg_c_${i}`))),
    );
    for (const d of duplicates) {
      expect(d.statusCode).toBe(409);
      expect(body(d)).toMatchObject({ status: 'in-progress', incidentUuid: id });
      expect(Number(d.headers?.['retry-after'])).toBeGreaterThan(0);
    }
    gate.release();
    expect((await first).statusCode).toBe(200);
    const retried = await h.receive(canonicalDelivery(id, 'msg_c_0'));
    expect(retried).toMatchObject({ statusCode: 200, headers: { 'idempotent-replay': 'true' } });
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('lets only one of many simultaneous deliveries reach ESET', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => h.receive(canonicalDelivery(id, 'msg_burst'))),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
  });

  it('does not enqueue twice when a duplicate arrives after the first attempt was queued', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 503, retryAfter: '1' }]);
    const first = await h.receive(canonicalDelivery(id, 'msg_q'));
    expect(first.statusCode).toBe(202);
    const duplicate = await h.receive(canonicalDelivery(id, 'msg_q'));
    expect(duplicate).toMatchObject({
      statusCode: 202,
      body: first.body,
      headers: { 'idempotent-replay': 'true' },
    });
    const depth = await queueDepth(h.queues.sqs, h.queues.retryQueueUrl);
    expect(depth.visible + depth.delayed + depth.inFlight).toBe(1);
    await h.drain();
    expect(closeCalls(h.sandbox, id).map((c) => c.status)).toEqual([503, 200]);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it('does not remember a 503 (queue could not store): the retry runs and is queued once', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    h.sandbox.script(id, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
    ]);
    let failSends = 1;
    h.queues.sqs.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { QueueUrl?: string }).QueueUrl === h.queues.retryQueueUrl && failSends > 0) {
          failSends -= 1;
          throw Object.assign(new Error('SQS is unavailable'), { name: 'ServiceUnavailable' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failFirstSend' },
    );
    const first = await h.receive(canonicalDelivery(id, 'msg_503'));
    expect(first.statusCode).toBe(503);
    const retry = await h.receive(canonicalDelivery(id, 'msg_503'));
    expect(retry.statusCode).toBe(202);
    expect(retry.headers?.['idempotent-replay']).toBeUndefined();
    expect(closeCalls(h.sandbox, id)).toHaveLength(2);
    const again = await h.receive(canonicalDelivery(id, 'msg_503'));
    expect(again).toMatchObject({ statusCode: 202, headers: { 'idempotent-replay': 'true' } });
    const depth = await queueDepth(h.queues.sqs, h.queues.retryQueueUrl);
    expect(depth.visible + depth.delayed + depth.inFlight).toBe(1);
    h.queues.sqs.middlewareStack.remove('failFirstSend');
    await h.drain();
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('does not remember what never reached the core (401, 400, ignored)', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    const unsigned = canonicalDelivery(id, 'msg_bad');
    const bad = await h.receive({
      ...unsigned,
      headers: { ...unsigned.headers, 'webhook-signature': 'v1,AAAA' },
    });
    expect(bad.statusCode).toBe(401);
    expect((await h.receive(canonicalDelivery(id, 'msg_bad'))).statusCode).toBe(200);
    const items = await h.idempotencyStore?.client.send(
      new ScanCommand({ TableName: h.idempotencyStore.tableName }),
    );
    expect(items?.Count).toBe(1);
  });

  it('runs the same close again once its record has expired (the window)', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    await h.receive(canonicalDelivery(id, 'msg_w'));
    const store = h.idempotencyStore;
    if (!store) throw new Error('no store');
    const scan = await store.client.send(new ScanCommand({ TableName: store.tableName }));
    const item = scan.Items?.[0];
    expect(item?.id?.S).toMatch(/^close#/);
    expect(item?.status?.S).toBe('COMPLETED');
    expect(Number(item?.expiration?.N)).toBeGreaterThan(Date.now() / 1000 + 7000);
    await store.client.send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: { id: { S: item?.id?.S ?? '' } },
        UpdateExpression: 'SET expiration = :past',
        ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 1) } },
      }),
    );
    const later = await h.receive(canonicalDelivery(id, 'msg_w'));
    expect(later.headers?.['idempotent-replay']).toBeUndefined();
    expect(body(later)).toMatchObject({ status: 'closed', note: 'the incident was already closed' });
    expect(closeCalls(h.sandbox, id)).toHaveLength(2);
  });

  it('answers 503 and calls nothing when the idempotency store is down', async () => {
    h = await startHarness({ idempotency: true });
    const id = h.newIncident();
    await h.idempotencyStore?.close();
    const answer = await h.receive(canonicalDelivery(id, 'msg_down'));
    expect(answer.statusCode).toBe(503);
    expect(body(answer)).toEqual({
      status: 'error',
      message: 'Duplicate protection is unavailable; please retry later',
    });
    expect(closeCalls(h.sandbox, id)).toHaveLength(0);
  });
});

describe('idempotency guard against dynalite', () => {
  const key = {
    incidentUuid: '123e4567-e89b-12d3-a456-426614174000',
    closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' as const,
    comment: 'c',
  };

  it('still answers with the real outcome when the store cannot save it, and frees the key after the in-progress time', async () => {
    const store = await startLocalIdempotencyStore();
    try {
      let failUpdates = true;
      store.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (failUpdates && context.commandName === 'UpdateItemCommand') throw new Error('throttled');
          return next(args);
        },
        { step: 'initialize', name: 'failUpdates' },
      );
      const guard = dynamoIdempotencyGuard(
        { table: store.tableName, ttlSeconds: 600 },
        { client: store.client },
      );
      let runs = 0;
      const work = async () => {
        runs += 1;
        return json(200, { status: 'closed' });
      };
      expect(await guard.once(key, 200, work)).toEqual({
        kind: 'first',
        answer: json(200, { status: 'closed' }),
      });
      failUpdates = false;
      // The record stayed in progress: a duplicate now is told to come back, not run twice.
      expect(await guard.once(key, 200, work)).toEqual({ kind: 'in-progress' });
      await new Promise((r) => setTimeout(r, 250));
      expect((await guard.once(key, 200, work)).kind).toBe('first');
      expect(runs).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe('idempotency configuration', () => {
  const base = { ESET_REGION: 'eu', ESET_USERNAME: 'u', ESET_PASSWORD: 'p' };

  it('is off without IDEMPOTENCY_TABLE, and defaults to a two-hour window', () => {
    expect(loadConfig(base).idempotency).toBeUndefined();
    expect(loadConfig({ ...base, IDEMPOTENCY_TABLE: 'bridge-idempotency' }).idempotency).toEqual({
      table: 'bridge-idempotency',
      ttlSeconds: 7200,
    });
    expect(
      loadConfig({
        ...base,
        IDEMPOTENCY_TABLE: 'bridge-idempotency',
        IDEMPOTENCY_TTL_SECONDS: '600',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4567',
      }).idempotency,
    ).toEqual({ table: 'bridge-idempotency', ttlSeconds: 600, endpoint: 'http://127.0.0.1:4567' });
  });

  it('names malformed idempotency variables', () => {
    expect(() =>
      loadConfig({
        ...base,
        IDEMPOTENCY_TABLE: 'a b',
        IDEMPOTENCY_TTL_SECONDS: '5',
        AWS_ENDPOINT_URL_DYNAMODB: 'dynalite',
      }),
    ).toThrow(
      /IDEMPOTENCY_TABLE must be .*IDEMPOTENCY_TTL_SECONDS must be between 60 .*AWS_ENDPOINT_URL_DYNAMODB must be/,
    );
  });
});
