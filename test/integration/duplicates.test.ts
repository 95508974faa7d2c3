import { afterEach, describe, expect, it } from 'vitest';
import { DynamoIncidentStore } from '../../functions/incidents/dynamodb-store';
import { type IncidentStore, StoreUnavailableError } from '../../functions/incidents/store';
import { functionUrlEvent, signedHeaders } from '../../infra/local/events';
import { closeCalls, type Harness, startHarness } from '../helpers/harness';
import { fixtureText, SENDERS_ENV, senderEvent } from '../senders/sender-events';

/**
 * Duplicate and concurrent deliveries through the real receive handler, against the ESET sandbox,
 * the local SQS server and a real DynamoDB-protocol server (dynalite) holding the incident
 * records. The record knows every ticket event it took in: a repeat reaches ESET at most once.
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

/** Holds ESET close calls at a gate, so more deliveries arrive while the first is in flight. */
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

describe('duplicates: a repeated ticket event reaches ESET at most once', () => {
  it('answers a sequential Standard Webhooks retry (same webhook-id) from the record, without any ESET call', async () => {
    h = await startHarness();
    const id = h.newIncident();
    const first = await h.receive(canonicalDelivery(id, 'msg_2Lx7'));
    const callsAfterFirst = h.sandbox.state().calls.length;
    const again = await h.receive(canonicalDelivery(id, 'msg_2Lx7'));
    expect(first.statusCode).toBe(200);
    expect(body(again)).toEqual({ status: 'closed', incidentUuid: id, duplicate: true });
    expect(h.sandbox.state().calls).toHaveLength(callsAfterFirst);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('treats a second delivery of the same close (another webhook-id) as the same event', async () => {
    h = await startHarness();
    const id = h.newIncident();
    await h.receive(canonicalDelivery(id, 'msg_from_rule_a'));
    const other = await h.receive(canonicalDelivery(id, 'msg_from_rule_b'));
    expect(body(other)).toMatchObject({ status: 'closed', duplicate: true });
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
  ] as const)('answers %s from the record', async (_name, route, name, retryHeaders) => {
    h = await startHarness({ env: SENDERS_ENV });
    const uuid = '123e4567-e89b-12d3-a456-426614174000';
    h.sandbox.addIncident(uuid);
    const first = await h.receive(senderEvent(route, fixtureText(name)));
    const retry = await h.receive(senderEvent(route, fixtureText(name), { headers: retryHeaders }));
    expect(first.statusCode).toBe(200);
    expect(retry.statusCode).toBe(200);
    expect(body(retry)).toMatchObject({ status: 'closed', duplicate: true });
    expect(closeCalls(h.sandbox, uuid)).toHaveLength(1);
  });

  it('repeats a 404 from ESET without asking ESET again', async () => {
    h = await startHarness();
    const unknown = '0f0f0f0f-0000-4000-8000-000000000404';
    const first = await h.receive(canonicalDelivery(unknown, 'msg_404'));
    const again = await h.receive(canonicalDelivery(unknown, 'msg_404'));
    expect(first.statusCode).toBe(404);
    expect(again.statusCode).toBe(404);
    expect(body(again)).toMatchObject({ status: 'rejected', esetStatus: 404 });
    expect(closeCalls(h.sandbox, unknown)).toHaveLength(1);
  });

  it('reads, and does not close again, when another close of the same incident arrives (another comment)', async () => {
    h = await startHarness();
    const id = h.newIncident();
    await h.receive(canonicalDelivery(id, 'msg_a'));
    const corrected = await h.receive(canonicalDelivery(id, 'msg_b', { comment: 'Second analyst note.' }));
    expect(body(corrected)).toMatchObject({
      status: 'already-closed',
      closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
    });
    const calls = h.sandbox.state().calls.filter((c) => c.path.includes(id));
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual(['POST 200', 'GET 200']);
    expect(h.sandbox.state().incidents[id]).toMatchObject({
      closesApplied: 1,
      finalComment: 'Malware removed, host reimaged.',
    });
  });

  it('lets only one of five simultaneous identical deliveries reach ESET, and leaves no work behind', async () => {
    const gate = gatedFetch();
    h = await startHarness({ overrides: { fetch: gate.fetch } });
    const id = h.newIncident();
    const held = gate.hold();
    const first = h.receive(canonicalDelivery(id, 'msg_same'));
    await held;
    const others = await Promise.all(
      Array.from({ length: 4 }, () => h.receive(canonicalDelivery(id, 'msg_same'))),
    );
    gate.release();
    expect((await first).statusCode).toBe(200);
    for (const o of others) expect(body(o)).toMatchObject({ status: 'queued', duplicate: true });
    await h.drain();
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it('closes once when five closes with different comments arrive at once', async () => {
    const gate = gatedFetch();
    h = await startHarness({ overrides: { fetch: gate.fetch } });
    const id = h.newIncident();
    const held = gate.hold();
    const first = h.receive(canonicalDelivery(id, 'msg_0', { comment: 'comment 0' }));
    await held;
    const others = await Promise.all(
      [1, 2, 3, 4].map((i) => h.receive(canonicalDelivery(id, `msg_${i}`, { comment: `comment ${i}` }))),
    );
    gate.release();
    expect((await first).statusCode).toBeLessThan(300);
    for (const o of others) expect(o.statusCode).toBeLessThan(300);
    await h.drain();
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]).toMatchObject({ closesApplied: 1, finalComment: 'comment 0' });
  });

  it('takes a retry after a 503 answer (the queue could not store it) as progress, and closes once', async () => {
    h = await startHarness({ env: { RETRY_QUEUE_URL: 'http://127.0.0.1:9/123456789012/missing-queue' } });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 503 }]);
    const first = await h.receive(canonicalDelivery(id, 'msg_503'));
    expect(first.statusCode).toBe(503);
    const retry = await h.receive(canonicalDelivery(id, 'msg_503'));
    expect(body(retry)).toMatchObject({ status: 'closed' });
    const calls = h.sandbox.state().calls.filter((c) => c.path.includes(id));
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual(['POST 503', 'GET 200', 'POST 200']);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('keeps no record of what never reached the worker (401, 400, ignored)', async () => {
    h = await startHarness({ env: SENDERS_ENV });
    const id = h.newIncident();
    const text = JSON.stringify({ incidentUuid: id, comment: 'x' });
    const unsigned = await h.receive(
      functionUrlEvent({ body: text, headers: { 'content-type': 'application/json' } }),
    );
    const invalid = await h.receive(
      functionUrlEvent({
        body: '{"incidentUuid":"nope"}',
        headers: signedHeaders('{"incidentUuid":"nope"}'),
      }),
    );
    const ignored = await h.receive(senderEvent('/zendesk', fixtureText('zendesk-trigger-no-incident')));
    expect([unsigned.statusCode, invalid.statusCode, ignored.statusCode]).toEqual([401, 400, 200]);
    expect(await h.incidentRecord(id)).toBeUndefined();
    expect(h.sandbox.state().calls).toHaveLength(0);
  });

  it('answers 503 and calls nothing when the incident store is down', async () => {
    h = await startHarness();
    const id = h.newIncident();
    await h.stateStore.close();
    const answer = await h.receive(canonicalDelivery(id, 'msg_down'));
    expect(answer.statusCode).toBe(503);
    expect(body(answer)).toMatchObject({
      status: 'error',
      message: 'The incident store is unavailable; please retry later',
    });
    expect(h.sandbox.state().calls).toHaveLength(0);
  });

  it('never closes twice when the store fails after ESET applied the close: the retry waits for ESET to settle and reads', async () => {
    let failPuts = false;
    const stores: { inner?: IncidentStore } = {};
    const flaky: IncidentStore = {
      get: (t, u) => (stores.inner as IncidentStore).get(t, u),
      put: (rec, rev) =>
        failPuts
          ? Promise.reject(new StoreUnavailableError())
          : (stores.inner as IncidentStore).put(rec, rev),
    };
    let afterClose: (() => void) | undefined;
    const fetchFn: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith(':close')) afterClose?.();
      return res;
    };
    // The first worker's lease is never let go: the retry waits out its 3 s + 3 s.
    h = await startHarness({ env: { ESET_TIMEOUT_MS: '3000' }, overrides: { store: flaky, fetch: fetchFn } });
    stores.inner = new DynamoIncidentStore({ table: h.stateStore.tableName, client: h.stateStore.client });
    const id = h.newIncident();
    afterClose = () => {
      failPuts = true;
    };
    const first = await h.receive(canonicalDelivery(id, 'msg_lost_write'));
    expect(first.statusCode).toBe(503);
    failPuts = false;
    afterClose = undefined;
    const retry = await h.receive(canonicalDelivery(id, 'msg_lost_write'));
    expect(retry.statusCode).toBe(202);
    await h.drain();
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });
});
