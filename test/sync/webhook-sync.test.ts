import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/config';
import { createSync, type Sync } from '../../functions/sync/compose';
import { signedTicketEvent } from '../../infra/local/events';
import { type Harness, startHarness } from '../helpers/harness';
import { type Received, type Receiver, type Reply, startReceiver } from '../helpers/receiver';
import { newIncident } from './helpers';

/**
 * `SYNC_TARGET=webhook`: every piece of news is a Standard Webhooks event, checked here with the
 * Standard Webhooks project's own library, with an id made of the tenant, the incident and the
 * news, so a repeat (a failed delivery, a restart with empty state) carries the same id.
 */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let h: Harness;
let receiver: Receiver;
let sync: Sync;
/** How the receiver answers; each test says, and looks only at its own incidents' events. */
let reply: (r: Received, i: number) => Reply = () => ({ status: 200 });

beforeAll(async () => {
  receiver = await startReceiver((r, i) => reply(r, i));
  h = await startHarness({
    env: {
      SYNC_TARGET: 'webhook',
      SYNC_WEBHOOK_URL: `${receiver.url}/eset-events`,
      SYNC_WEBHOOK_SECRET: SECRET,
    },
  });
  const config = loadConfig(h.env, { stateTable: true, sync: true });
  sync = createSync(config, { dynamo: h.stateStore.client, sqs: h.queues.sqs, random: () => 0 });
});

afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

interface Event {
  id: string;
  type: string;
  data: Record<string, unknown> & { incident?: { uuid: string } };
}

async function start(answer: (r: Received, i: number) => Reply = () => ({ status: 200 })) {
  reply = answer;
  return { h, sync };
}

const run = (sync: Sync) => sync.run({ deadline: Date.now() + 30_000 });

/** Every delivery answered 2xx, verified as a receiver would. */
function events(): Event[] {
  const hook = new Webhook(SECRET);
  return receiver.received.map((r) => {
    const payload = hook.verify(r.body, {
      'webhook-id': r.headers['webhook-id'] as string,
      'webhook-timestamp': r.headers['webhook-timestamp'] as string,
      'webhook-signature': r.headers['webhook-signature'] as string,
    }) as Omit<Event, 'id'>;
    return { id: r.headers['webhook-id'] as string, ...payload };
  });
}
const of = (uuid: string) =>
  events().filter((e) => e.data.incident?.uuid === uuid || e.data.incidentUuid === uuid);

describe('the webhook target', () => {
  it('posts incident.created once, signed, with a stable id that a restart with empty state repeats', async () => {
    // Prepare
    const { h, sync } = await start();
    const id = newIncident(h.sandbox, { name: 'Lateral movement from WS-12' });

    // Act
    await run(sync);
    await run(sync);
    for (const key of [`sync#default#watermark`, `link#default#${id}`]) {
      await h.stateStore.client.send(
        new DeleteItemCommand({ TableName: h.stateStore.tableName, Key: { id: { S: key } } }),
      );
    }
    await run(sync);

    // Assess
    const sent = of(id);
    expect(sent.map((e) => e.type)).toEqual(['incident.created', 'incident.created']);
    expect(new Set(sent.map((e) => e.id))).toEqual(new Set([`default:${id}:created`]));
    expect(sent[0]?.data.incident).toMatchObject({
      uuid: id,
      displayName: 'Lateral movement from WS-12',
      severity: 'HIGH',
      url: `${h.sandbox.url}/v2/incidents/${id}`,
    });
  });

  it('posts incident.commented, incident.closed and incident.reopened for what happens in ESET', async () => {
    // Prepare
    const { h, sync } = await start();
    const id = newIncident(h.sandbox);
    await run(sync);

    // Act
    h.sandbox.consoleComment(id, 'Isolated the host.', 'bob@example.com');
    await run(sync);
    h.sandbox.consoleClose(id, {
      reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      comment: 'Reimaged.',
      by: 'ana@example.com',
    });
    await run(sync);
    h.sandbox.consoleReopen(id);
    await run(sync);
    await run(sync);

    // Assess
    const sent = of(id);
    expect(sent.map((e) => e.type)).toEqual([
      'incident.created',
      'incident.commented',
      'incident.closed',
      'incident.reopened',
    ]);
    expect(sent[1]?.data.comment).toMatchObject({
      text: 'Isolated the host.',
      authorUuid: h.sandbox.userUuid('bob@example.com'),
    });
    expect(sent[2]?.data).toMatchObject({
      reason: 'true positive',
      closedBy: h.sandbox.userUuid('ana@example.com'),
      finalComment: 'Reimaged.',
      origin: 'eset',
    });
    expect(new Set(sent.map((e) => e.id)).size).toBe(4);
  });

  it('posts close.failed when ESET refuses a close a ticket asked for', async () => {
    // Prepare
    const { h, sync } = await start();
    const id = newIncident(h.sandbox);
    h.sandbox.script(id, [{ kind: 'status', status: 403, body: '{"code":7,"message":"permission denied"}' }]);
    const answer = await h.receive(
      signedTicketEvent({ incidentUuid: id, comment: 'Done.', ticketId: 'HD-7' }),
    );

    // Act
    await run(sync);
    await run(sync);

    // Assess
    expect(answer.statusCode).toBe(422);
    const failed = of(id).filter((e) => e.type === 'close.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({
      incidentUuid: id,
      action: 'close',
      esetStatus: 403,
      ticketId: 'HD-7',
    });
    expect(String(failed[0]?.data.reason)).toContain('permission denied');
  });

  it('keeps an event the receiver could not take for the next run, with the same id', async () => {
    // Prepare: the receiver fails everything at first.
    let down = true;
    const { h, sync } = await start(() => ({ status: down ? 503 : 200 }));
    const id = newIncident(h.sandbox);

    // Act
    const first = await run(sync);
    down = false;
    const second = await run(sync);

    // Assess
    expect(first).toMatchObject({ created: 0, retry: 1 });
    expect(second).toMatchObject({ created: 1 });
    const ids = receiver.received.map((r) => String(r.headers['webhook-id'])).filter((i) => i.includes(id));
    expect(ids.length).toBeGreaterThan(1);
    expect(new Set(ids)).toEqual(new Set([`default:${id}:created`]));
    expect(Date.parse(second.watermark ?? '')).toBe(second.startedAt);
  });
});
