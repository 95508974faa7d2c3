import { describe, expect, it } from 'vitest';
import { outstanding } from '../../functions/incidents/record';
import {
  CLOSED,
  closeEvent,
  commentEvent,
  commentList,
  INCIDENT,
  type IncidentRig,
  incident,
  incidentRig,
  OPEN,
  OTHER_INCIDENT,
  posted,
  reopenEvent,
  status,
  T0,
  TENANT,
  TIMING,
  wakeMessage,
} from '../helpers/incidents';

const RECEIVED = { tenant: TENANT, correlationId: 'corr-receive' };

/** A close whose first try got a 503: the record waits for the wake-up the worker queued (3 s). */
async function closeAfter503(rig: IncidentRig) {
  rig.eset.answers(status(503, { reason: 'upstream unavailable' }));
  const answer = await rig.worker.onEvent(closeEvent(), RECEIVED);
  return { answer, wake: rig.lastWake() };
}

/** The outcomes recorded, as `lambda outcome` (and the detail, when given). */
function outcomesOf(rig: IncidentRig): string[] {
  return rig.outcomes.map((o) => [o.lambda, o.outcome, o.detail].filter(Boolean).join(' '));
}

describe('IncidentWorker: a ticket event', () => {
  it('closes a new incident with one call, no read, and answers 200 closed', async () => {
    // Prepare
    const rig = incidentRig();
    rig.eset.answers(status(200));

    // Act
    const answer = await rig.worker.onEvent(closeEvent(), RECEIVED);

    // Assess
    expect(answer).toEqual({ statusCode: 200, body: { status: 'closed', incidentUuid: INCIDENT } });
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(rig.enqueued).toEqual([]);
    const rec = await rig.record();
    expect(outstanding(rec)).toBe(false);
    expect(rec.lease).toBeUndefined();
    expect(outcomesOf(rig)).toEqual(['receive closed']);
  });

  it("takes a close's budget slot ahead, beside the record's write; a reopen does not", async () => {
    // Prepare
    const rig = incidentRig();
    rig.eset.answers(status(200));
    const other = incidentRig();
    other.eset.answers(incident(OPEN));

    // Act
    await rig.worker.onEvent(closeEvent(), RECEIVED);
    await other.worker.onEvent(reopenEvent(), RECEIVED);

    // Assess: one reservation, before any call, for the tenant, within the receive budget.
    expect(rig.eset.reserved).toEqual([
      { tenant: TENANT, callsBefore: 0, deadline: T0 + TIMING.receive.budgetMs },
    ]);
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(other.eset.reserved).toEqual([]);
    expect(other.eset.kinds()).toEqual(['read']);
  });

  it('queues a wake-up after a 503 and answers 202 queued; the wake-up reads, then closes', async () => {
    // Prepare
    const rig = incidentRig();
    const { answer, wake } = await closeAfter503(rig);
    rig.eset.answers(incident(OPEN), status(200));

    // Act
    await rig.deliver(wake);

    // Assess
    expect(answer).toEqual({
      statusCode: 202,
      body: { status: 'queued', incidentUuid: INCIDENT, reason: 'unknown', esetStatus: '503' },
    });
    expect(wake).toEqual({
      delaySeconds: 3,
      message: expect.objectContaining({
        v: 2,
        tenant: TENANT,
        incidentUuid: INCIDENT,
        sentAt: new Date(T0).toISOString(),
        delaySeconds: 3,
        why: 'unknown',
        correlationId: 'corr-receive',
        want: { status: 'closed', key: expect.any(String), ticketId: 'INC-1042' },
      }),
    });
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close']);
    expect(rig.eset.calls[1]?.at).toBe(T0 + 3_000);
    const rec = await rig.record();
    expect(rec.eset?.status).toBe(CLOSED);
    expect(outstanding(rec)).toBe(false);
    expect(rec.wake).toBeUndefined();
    expect(outcomesOf(rig)).toEqual(['receive queued', 'retry closed']);
  });

  it('queues a wake-up for a ticket event taken in while a retry worker held the incident', async () => {
    // Prepare: a comment arrives while the retry worker's close is under way.
    const rig = incidentRig();
    const { wake } = await closeAfter503(rig);
    let meanwhile: unknown;
    rig.eset.answers(incident(OPEN), async () => {
      meanwhile = await rig.worker.onEvent(commentEvent('Arrived meanwhile'), RECEIVED);
      return status(200);
    });

    // Act
    await rig.deliver(wake);

    // Assess: the comment is kept, and a wake-up is due at once for it.
    expect(meanwhile).toMatchObject({ statusCode: 202, body: { status: 'queued' } });
    expect(rig.enqueued.map((e) => [e.message.why, e.delaySeconds])).toEqual([
      ['unknown', 3],
      ['event', 0],
    ]);
    const rec = await rig.record();
    expect(rec.comments.map((c) => c.text)).toEqual(['Arrived meanwhile']);
    expect(rec.eset?.status).toBe(CLOSED);
    expect(rec.lease).toBeUndefined();

    // ...and that wake-up posts it.
    rig.eset.answers(incident(CLOSED), posted('c-1'));
    await rig.deliver(rig.lastWake());
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close', 'read', 'comment']);
    expect(outstanding(await rig.record())).toBe(false);
  });
});

describe('IncidentWorker: which retry messages act', () => {
  it('settles a message for an incident it has no record of, without calling ESET', async () => {
    const rig = incidentRig();

    await rig.worker.onMessage(wakeMessage({ incidentUuid: OTHER_INCIDENT }));

    expect(outcomesOf(rig)).toEqual(['retry settled no record of this incident']);
    expect(rig.eset.calls).toEqual([]);
    expect(rig.enqueued).toEqual([]);
  });

  it('settles a message when nothing is outstanding', async () => {
    // Prepare: closed on the fast path.
    const rig = incidentRig();
    rig.eset.answers(status(200));
    await rig.worker.onEvent(closeEvent(), RECEIVED);

    // Act
    rig.clock.advance(60_000);
    await rig.worker.onMessage(wakeMessage({ sentAt: new Date(T0).toISOString(), delaySeconds: 60 }));

    // Assess
    expect(outcomesOf(rig)).toEqual(['receive closed', 'retry settled']);
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(rig.enqueued).toEqual([]);
  });

  it('settles a message when another wake-up is scheduled for the incident', async () => {
    // Prepare
    const rig = incidentRig();
    const { wake } = await closeAfter503(rig);

    // Act: a surplus message, due before the scheduled one.
    rig.clock.set(T0 + 1_000);
    await rig.worker.onMessage({ ...wake.message, wakeId: 'surplus', delaySeconds: 1 });

    // Assess
    expect(outcomesOf(rig)).toEqual(['receive queued', 'retry settled another wake-up is scheduled']);
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(rig.enqueued).toHaveLength(1);
  });

  it('queues its own wake-up again, as early, while it is due later than SQS can delay (900 s)', async () => {
    // Prepare: the work is due in 25 minutes.
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.wake = { id: 'w-long', at: new Date(T0 + 1_500_000).toISOString() };
    });
    rig.eset.answers(status(200));

    // Act
    await rig.deliver({ message: wakeMessage({ wakeId: 'w-long' }), delaySeconds: 0 });
    const first = rig.lastWake();
    await rig.deliver(first);
    const second = rig.lastWake();
    await rig.deliver(second);

    // Assess
    expect([first, second].map((e) => [e.message.why, e.message.wakeId, e.delaySeconds])).toEqual([
      ['early', 'w-long', 900],
      ['early', 'w-long', 600],
    ]);
    expect(rig.eset.calls.map((c) => [c.call, c.at])).toEqual([['close', T0 + 1_500_000]]);
  });

  it("keeps the holder's next wake-up that arrives before the holder wrote it, and acts on it after", async () => {
    // Prepare: a retry worker woken by w-holder has sent its next wake-up (w-next, due at once)
    // but not yet written it into the record: the record still names w-holder.
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.wake = { id: 'w-holder', at: new Date(T0).toISOString() };
      r.lease = { owner: 'retry:holder', until: T0 + TIMING.retry.leaseMs, wake: 'w-holder' };
    });

    // Act: w-next arrives first.
    await rig.worker.onMessage(wakeMessage({ wakeId: 'w-next' }));

    // Assess: not dropped, but looked at again in 10 s.
    expect(rig.enqueued.map((e) => [e.message.why, e.message.wakeId, e.delaySeconds])).toEqual([
      ['busy', 'w-next', 10],
    ]);
    expect(rig.outcomes).toEqual([]);

    // Act: the holder writes w-next and lets go; the message comes back and acts.
    await rig.patch((r) => {
      r.wake = { id: 'w-next', at: new Date(T0).toISOString() };
      r.lease = undefined;
    });
    rig.eset.answers(status(200));
    await rig.deliver(rig.lastWake());

    // Assess
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(outstanding(await rig.record())).toBe(false);
  });

  it('keeps a redrive known only by its age marked as one while it waits for the holder', async () => {
    // Prepare: SQS moved the message to the DLQ itself (no attributes); redriven 2 hours later.
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.lease = { owner: 'retry:holder', until: T0 + TIMING.staleMessageMs + 100_000, wake: 'w-holder' };
    });
    rig.clock.set(T0 + TIMING.staleMessageMs + 1_000);

    // Act
    await rig.worker.onMessage(wakeMessage({ wakeId: 'w-old' }));

    // Assess: queued again with a redrive mark, so its next delivery is still a redrive.
    const again = rig.lastWake().message;
    expect(again.why).toBe('busy');
    expect(again.deadLettered).toMatchObject({
      action: 'close',
      reason: expect.stringContaining('redriven'),
    });
  });

  it('drops, once the holder has let go, a message the record no longer names', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.wake = { id: 'w-holder', at: new Date(T0).toISOString() };
      r.lease = { owner: 'retry:holder', until: T0 + TIMING.retry.leaseMs, wake: 'w-holder' };
    });
    await rig.worker.onMessage(wakeMessage({ wakeId: 'w-stray' }));
    await rig.patch((r) => {
      r.wake = { id: 'w-next', at: new Date(T0 + 60_000).toISOString() };
      r.lease = undefined;
    });

    // Act
    await rig.deliver(rig.lastWake());

    // Assess
    expect(outcomesOf(rig)).toEqual(['retry settled another wake-up is scheduled']);
    expect(rig.enqueued).toHaveLength(1);
    expect(rig.eset.calls).toEqual([]);
  });

  it("waits for the lease to end when the holder's own wake-up comes again", async () => {
    // Prepare: the holder may have died; its lease runs 155.25 s.
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.lease = { owner: 'retry:holder', until: T0 + TIMING.retry.leaseMs, wake: 'w-holder' };
    });

    // Act
    await rig.worker.onMessage(wakeMessage({ wakeId: 'w-holder' }));

    // Assess: queued again for a second after the lease ends.
    expect(rig.enqueued.map((e) => [e.message.why, e.message.wakeId, e.delaySeconds])).toEqual([
      ['busy', 'w-holder', 157],
    ]);
    expect(rig.eset.calls).toEqual([]);
  });

  it('looks again within 2 s while a receive worker holds the incident', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.lease = { owner: 'receive:holder', until: T0 + TIMING.receive.leaseMs };
    });

    await rig.worker.onMessage(wakeMessage({ wakeId: 'w-any' }));

    expect(rig.enqueued.map((e) => [e.message.why, e.delaySeconds])).toEqual([['busy', 2]]);
    expect(rig.eset.calls).toEqual([]);
  });
});

describe('IncidentWorker: the retry budget and redrives', () => {
  /** A close that got a 503, then a wake-up 100 s late: over a 60 s budget, it is dead-lettered. */
  async function deadLetteredClose() {
    const rig = incidentRig({ maxAgeSeconds: 60 });
    const { wake } = await closeAfter503(rig);
    await rig.deliver(wake, 100_000);
    return rig;
  }

  it('dead-letters work whose retry budget ran out, with the reason and the last ESET status', async () => {
    // Prepare, Act
    const rig = await deadLetteredClose();

    // Assess
    const reason = 'retry budget exhausted after 103 s: ESET answered 503: upstream unavailable';
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(rig.deadLettered).toHaveLength(1);
    const [dl] = rig.deadLettered;
    expect(dl?.body).toMatchObject({
      v: 2,
      why: 'dead-letter',
      incidentUuid: INCIDENT,
      deadLettered: { reason, action: 'close', key: expect.any(String) },
    });
    expect(dl?.why).toMatchObject({
      reason,
      action: 'close',
      lastStatus: '503',
      attempts: 1,
      tenant: TENANT,
    });
    expect(outcomesOf(rig)).toEqual(['receive queued', `retry dead-lettered ${reason}`]);
    const rec = await rig.record();
    expect(rec.failed).toMatchObject({ action: 'close', reason });
    expect(outstanding(rec)).toBe(false);
  });

  it('gives a redriven dead letter a new budget and reads first', async () => {
    // Prepare: an operator redrives the dead letter an hour later.
    const rig = await deadLetteredClose();
    const body = rig.deadLettered[0]?.body;
    if (!body) throw new Error('no dead letter');
    rig.clock.set(T0 + 3_600_000);
    rig.eset.answers(incident(OPEN), status(200));

    // Act
    await rig.worker.onMessage(body);

    // Assess
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close']);
    expect(outcomesOf(rig).slice(2)).toEqual([
      'retry redriven retry budget exhausted after 103 s: ESET answered 503: upstream unavailable',
      'retry closed',
    ]);
    const rec = await rig.record();
    expect(rec.progress.budgetStart).toBe(new Date(T0 + 3_600_000).toISOString());
    expect(rec.failed).toBeUndefined();
    expect(rec.eset?.status).toBe(CLOSED);
  });

  it('takes a message received long after it was due for a redrive: new budget, read first', async () => {
    // Prepare: the wake-up went through the dead-letter queue without the bridge's attributes.
    const rig = incidentRig({ maxAgeSeconds: 60 });
    const { wake } = await closeAfter503(rig);
    rig.eset.answers(incident(OPEN), status(200));

    // Act
    await rig.deliver(wake, TIMING.staleMessageMs + 1_000);

    // Assess: far over the 60 s budget, and still closed.
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close']);
    expect(outcomesOf(rig).slice(1)).toEqual([
      'retry redriven the message waited longer than the retry queue holds one',
      'retry closed',
    ]);
    expect(rig.deadLettered).toEqual([]);
  });

  it('posts a dead-lettered comment when it is redriven', async () => {
    // Prepare: a comment throttled until its budget ran out.
    const rig = incidentRig({ maxAgeSeconds: 60 });
    rig.eset.answers(incident(OPEN), status(429, { retryAfter: '10' }));
    await rig.worker.onEvent(commentEvent('Containment done'), RECEIVED);
    await rig.deliver(rig.lastWake(), 100_000);
    const body = rig.deadLettered[0]?.body;
    if (!body) throw new Error('no dead letter');
    expect(body.comment).toMatchObject({ text: 'Containment done' });
    expect((await rig.record()).comments).toEqual([]);
    rig.eset.answers(incident(OPEN), posted('c-1'));

    // Act
    rig.clock.advance(3_600_000);
    await rig.worker.onMessage(body);

    // Assess
    expect(rig.eset.kinds()).toEqual(['read', 'comment', 'read', 'comment']);
    expect(rig.eset.calls[3]?.body).toBe(JSON.stringify({ comment: { text: 'Containment done' } }));
    expect(outcomesOf(rig).at(-1)).toBe('retry commented');
    const rec = await rig.record();
    expect(rec.comments).toEqual([]);
    expect(rec.applied.comments).toBe(1);
  });
  it.each([
    ['finds it at ESET and does not post it again', true],
    ['does not find it at ESET and posts it once', false],
  ])('redrives a comment whose last try had an unknown outcome: looks first, %s', async (_name, atEset) => {
    // Prepare: the comment's post answered 503 (it may have been applied), then the budget ran out.
    const rig = incidentRig({ maxAgeSeconds: 60 });
    rig.eset.answers(incident(OPEN), status(503, { reason: 'upstream unavailable' }));
    await rig.worker.onEvent(commentEvent('Containment done'), RECEIVED);
    await rig.deliver(rig.lastWake(), 100_000);
    const body = rig.deadLettered[0]?.body;
    if (!body) throw new Error('no dead letter');
    expect(body.comment).toMatchObject({ text: 'Containment done', unsure: true });
    const list = atEset ? [{ uuid: 'c-7', text: 'Containment done' }] : [{ uuid: 'c-1', text: 'Other' }];
    rig.eset.answers(incident(OPEN), commentList(list), ...(atEset ? [] : [posted('c-8')]));

    // Act
    rig.clock.advance(3_600_000);
    await rig.worker.onMessage(body);

    // Assess
    expect(rig.eset.kinds()).toEqual(['read', 'comment', 'read', 'comments', ...(atEset ? [] : ['comment'])]);
    const rec = await rig.record();
    expect(rec.comments).toEqual([]);
    expect(outstanding(rec)).toBe(false);
    expect(rec.ownComments).toContain(atEset ? 'c-7' : 'c-8');
  });

  it('reads first on a redrive when the budget ran out while a close had an unknown outcome', async () => {
    // Prepare: a retry worker dies during its first close (a hang past the Lambda's timeout); the
    // message comes back after the visibility timeout, past the 60 s budget, and is dead-lettered.
    const rig = incidentRig({ maxAgeSeconds: 60 });
    await rig.seed([closeEvent()], (r) => {
      r.wake = { id: 'w-1', at: new Date(T0).toISOString() };
    });
    const message = wakeMessage({ wakeId: 'w-1' });
    let callStarted = () => {};
    const hung = new Promise<void>((resolve) => {
      callStarted = resolve;
    });
    rig.eset.answers(() => {
      callStarted();
      return new Promise<never>(() => {});
    });
    void rig.worker.onMessage(message);
    await hung;
    rig.clock.set(T0 + 1_000_000);
    await rig.worker.onMessage(message);
    const body = rig.deadLettered[0]?.body;
    if (!body) throw new Error('no dead letter');
    rig.eset.answers(incident(CLOSED));

    // Act
    rig.clock.advance(3_600_000);
    await rig.worker.onMessage(body);

    // Assess: the close may have been applied; it is not repeated without a look.
    expect(rig.eset.kinds()).toEqual(['close', 'read']);
    expect(outcomesOf(rig).at(-1)).toBe('retry already');
  });
});

describe('IncidentWorker: the lease', () => {
  it('stops without writing when its lease moved to another worker during the session', async () => {
    // Prepare: another worker takes the incident while the close is under way.
    const rig = incidentRig();
    const { wake } = await closeAfter503(rig);
    rig.eset.answers(incident(OPEN), async () => {
      await rig.patch((r) => {
        r.lease = { owner: 'retry:other', until: T0 + 600_000 };
      });
      return status(200);
    });

    // Act
    await rig.deliver(wake);

    // Assess: nothing this worker learnt was written over the other's lease.
    const rec = await rig.record();
    expect(rec.lease?.owner).toBe('retry:other');
    expect(rec.applied.closes).toBe(0);
    expect(rec.unknown).toMatchObject({ call: 'close' }); // as it was when the lease moved
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close']);
    expect(rig.enqueued).toHaveLength(1);
  });
});
