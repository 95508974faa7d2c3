import { describe, expect, it } from 'vitest';
import { EsetRequests } from '../../functions/eset/client';
import { mergeEvent, outstanding } from '../../functions/incidents/record';
import { LeaseLostError, type SessionEnd } from '../../functions/incidents/session';
import { updateRecord } from '../../functions/incidents/store';
import {
  accepted,
  CLOSED,
  closeEvent,
  commentEvent,
  commentList,
  INCIDENT,
  type IncidentRig,
  incident,
  incidentRig,
  lost,
  OPEN,
  POLICY,
  posted,
  reopenEvent,
  status,
  T0,
  TENANT,
} from '../helpers/incidents';

const CLOSE = EsetRequests.close(
  INCIDENT,
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  closeEvent().comment ?? '',
);
const SETTLE_MS = POLICY.settleSeconds * 1000;

/** Seconds since T0, for reading call times. */
const sinceT0 = (at: number) => (at - T0) / 1000;

/** The time a session's end asks to be woken at. */
function wakeAt(end: SessionEnd): number {
  if (end.kind !== 'wait') throw new Error(`the session ended ${end.kind}, not waiting`);
  return end.at;
}

/** Runs a session at each wake-up until `stop` holds (at most 40 sessions). */
async function turnsUntil(rig: IncidentRig, first: SessionEnd, stop: () => boolean): Promise<SessionEnd> {
  let end = first;
  for (let i = 0; i < 40 && !stop(); i++) {
    rig.clock.set(wakeAt(end));
    end = (await rig.turn()).end;
  }
  return end;
}

describe('Session: the first close', () => {
  it('closes a new incident with one call, without a read, on the fast path', async () => {
    // Prepare: the receive Lambda created the record and marked the close as under way.
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.unknown = {
        call: 'close',
        key: 'key-1',
        since: new Date(T0).toISOString(),
        settle: true,
        reason: 'x',
      };
    });
    rig.eset.answers(status(200));

    // Act
    const { end, effects, rec } = await rig.turn({ fast: true, owner: 'receive:1', checkBudget: false });

    // Assess
    expect(end).toEqual({ kind: 'done' });
    expect(rig.eset.calls).toEqual([
      { tenant: TENANT, call: 'close', method: 'POST', path: CLOSE.path, body: CLOSE.body, at: T0 },
    ]);
    expect(effects).toEqual([{ call: 'close', key: 'key-1', how: 'applied' }]);
    expect(rec).toMatchObject({
      eset: { status: CLOSED, reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' },
      applied: { closes: 1, reopens: 0, comments: 0 },
      touched: true,
      progress: { lastStatus: '200', lastRequestId: 'req-200', attempts: 0, calls: 1 },
    });
    expect(rec.unknown).toBeUndefined();
    expect(rec.lease).toBeUndefined();
  });

  it('sends the first close without a read on the retry path too, while no earlier try reached ESET', async () => {
    // Prepare: the first try was throttled (nothing reached ESET's incident).
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(429, { retryAfter: '10' }), status(200));
    const first = await rig.turn();
    expect(first.rec.touched).toBeUndefined();

    // Act
    rig.clock.set(wakeAt(first.end));
    const second = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['close', 'close']);
    expect(second.end).toEqual({ kind: 'done' });
    expect(second.rec.eset?.status).toBe(CLOSED);
  });

  it('reads before acting again once a call may have reached ESET', async () => {
    // Prepare: the first close got a 503, so it may have been applied.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(503), incident(OPEN), status(200));
    const first = await rig.turn();
    expect(first.rec.touched).toBe(true);

    // Act
    rig.clock.set(wakeAt(first.end));
    await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'close']);
    expect(rig.eset.calls[1]?.path).toBe(`/v2/incidents/${INCIDENT}`);
  });
});

describe("Session: ESET's answers to a close, row by row", () => {
  it('200: notes the incident closed, with the reason it sent', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(200));

    const { end, effects, rec } = await rig.turn();

    expect(end).toEqual({ kind: 'done' });
    expect(effects).toEqual([{ call: 'close', key: 'key-1', how: 'applied' }]);
    expect(rec.eset).toEqual({
      status: CLOSED,
      reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      at: new Date(T0).toISOString(),
    });
    expect(outstanding(rec)).toBe(true); // dirty until the worker settles it
    expect(rec.unknown).toBeUndefined();
  });

  it('202 + response-id: waits, then re-sends the identical path and body with that response-id', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(accepted('resp-1'), status(200));

    // Act
    const first = await rig.turn();
    rig.clock.set(wakeAt(first.end));
    const second = await rig.turn();

    // Assess
    expect(first.end).toEqual({ kind: 'wait', at: T0 + 5_000, why: 'pending' });
    expect(first.rec.pending).toMatchObject({ call: 'close', responseId: 'resp-1', resends: 0 });
    const [call, resend] = rig.eset.calls;
    expect(resend).toEqual({ ...call, responseId: 'resp-1', at: T0 + 5_000 });
    expect(resend?.body).toBe(CLOSE.body);
    expect(second.end).toEqual({ kind: 'done' });
    expect(second.effects).toEqual([{ call: 'close', key: 'key-1', how: 'retrieved' }]);
    expect(second.rec.pending).toBeUndefined();
    expect(second.rec.eset?.status).toBe(CLOSED);
    expect(rig.eset.kinds()).toEqual(['close', 'close+id']); // no read: the answer said what happened
  });

  it('202 + response-id: waits longer before each further re-send (x1.5 up to 60 s), with the latest response-id', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    for (let i = 1; i <= 9; i++) rig.eset.answers(accepted(`resp-${i}`));

    // Act
    const first = await rig.turn();
    await turnsUntil(rig, first.end, () => rig.eset.calls.length === 9);

    // Assess
    const at = rig.eset.calls.map((c) => sinceT0(c.at));
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps).toEqual([5, 8, 11, 17, 25, 38, 57, 60]);
    expect(rig.eset.calls.slice(1).map((c) => c.responseId)).toEqual(
      Array.from({ length: 8 }, (_, i) => `resp-${i + 1}`),
    );
    expect(new Set(rig.eset.calls.map((c) => `${c.path} ${c.body}`)).size).toBe(1);
  });

  it("202 + response-id: reads once ESET's 10-minute cache window (less 30 s) has passed, re-sending until then", async () => {
    // Prepare: ESET keeps answering 202 until it drops the cached answer.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    for (let i = 1; i <= 14; i++) rig.eset.answers(accepted(`resp-${i}`));
    rig.eset.answers(incident(CLOSED, 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE'));

    // Act
    const first = await rig.turn();
    const end = await turnsUntil(rig, first.end, () => rig.eset.kinds().includes('read'));

    // Assess: re-sends at growing intervals, none closer than the schedule, then one read at 570 s.
    expect(rig.eset.calls.map((c) => `${c.responseId ? 're-send' : c.call} ${sinceT0(c.at)}`)).toEqual([
      'close 0',
      ...[5, 13, 24, 41, 66, 104, 161, 221, 281, 341, 401, 461, 521].map((t) => `re-send ${t}`),
      'read 570',
    ]);
    expect(end).toEqual({ kind: 'done' });
    const rec = await rig.record();
    expect(rec.pending).toBeUndefined();
    expect(rec.unknown).toBeUndefined();
    expect(rec.eset?.status).toBe(CLOSED);
  });

  it.each([
    ['missing', status(202), 'ESET answered 202 with no response-id'],
    [
      'too long to re-send',
      status(202, { responseIdUnusable: true }),
      'ESET answered 202 with a response-id too long to re-send',
    ],
  ])('202 with its response-id %s: waits for ESET to settle, then reads', async (_name, answer, reason) => {
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(answer);

    const { end, rec } = await rig.turn();

    expect(end).toEqual({ kind: 'wait', at: T0 + SETTLE_MS, why: 'unknown', reason });
    expect(rec.unknown).toMatchObject({
      call: 'close',
      key: 'key-1',
      settle: true,
      since: new Date(T0).toISOString(),
    });
    expect(rec.touched).toBe(true);
  });

  it('no answer: reads no earlier than the settle time after the call started, and exactly then', async () => {
    // Prepare: the close hangs for its whole 55 s timeout.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(() => {
      rig.clock.advance(55_000);
      return lost();
    });
    const first = await rig.turn();
    expect(first.end).toEqual({
      kind: 'wait',
      at: T0 + SETTLE_MS,
      why: 'unknown',
      reason: 'no answer within 55000 ms',
    });

    // Act: a session a millisecond early, then one on time.
    rig.clock.set(T0 + SETTLE_MS - 1);
    const early = await rig.turn();
    const callsWhileSettling = rig.eset.calls.length;
    rig.eset.answers(incident(CLOSED, 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE'));
    rig.clock.set(T0 + SETTLE_MS);
    const onTime = await rig.turn();

    // Assess
    expect(early.end).toMatchObject({ kind: 'wait', at: T0 + SETTLE_MS, why: 'unknown' });
    expect(callsWhileSettling).toBe(1);
    expect(rig.eset.kinds()).toEqual(['close', 'read']);
    expect(rig.eset.calls[1]?.at).toBe(T0 + SETTLE_MS);
    expect(onTime.end).toEqual({ kind: 'done' });
    expect(onTime.effects).toEqual([{ call: 'close', key: 'key-1', how: 'already' }]);
    expect(onTime.rec.unknown).toBeUndefined();
  });

  it('5xx: the close may have been applied, so it backs off and reads before closing again', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(503, { reason: 'upstream unavailable' }), incident(CLOSED));

    // Act
    const first = await rig.turn();
    rig.clock.set(wakeAt(first.end));
    const second = await rig.turn();

    // Assess: backoff with jitter 0.5 of 5 s is 3 s; the read shows the 503'd close was applied.
    expect(first.end).toEqual({
      kind: 'wait',
      at: T0 + 3_000,
      why: 'unknown',
      reason: 'ESET answered 503: upstream unavailable',
    });
    expect(first.rec.unknown).toMatchObject({ call: 'close', settle: false });
    expect(rig.eset.kinds()).toEqual(['close', 'read']);
    expect(second.effects).toEqual([{ call: 'close', key: 'key-1', how: 'already' }]);
    expect(second.rec.unknown).toBeUndefined();
  });

  it('429 with Retry-After: waits exactly that long, and nothing counts as having reached ESET', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(429, { retryAfter: '30' }));

    const { end, rec } = await rig.turn();

    expect(end).toEqual({ kind: 'wait', at: T0 + 30_000, why: 'retry', reason: 'ESET answered 429' });
    expect(rec.unknown).toBeUndefined();
    expect(rec.touched).toBeUndefined();
    expect(rec.progress).toMatchObject({ attempts: 1, lastStatus: '429', lastReason: 'ESET answered 429' });
  });

  it('429 without Retry-After: backs off with jitter, its ceiling doubling with each attempt', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(429), status(429), status(429), status(200));

    // Act
    const first = await rig.turn();
    await turnsUntil(rig, first.end, () => rig.eset.calls.length === 4);

    // Assess: random 0.5 of 5, 10 and 20 s (inclusive): 3, 5 and 10 s.
    expect(rig.eset.calls.map((c) => sinceT0(c.at))).toEqual([0, 3, 8, 18]);
    expect(rig.eset.kinds()).toEqual(['close', 'close', 'close', 'close']);
  });

  it('400 to a close, incident already closed: done, as already closed', async () => {
    // Prepare: someone closed it in the console first.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(
      status(400, { reason: 'incident is closed' }),
      incident(CLOSED, 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE'),
    );

    // Act
    const { end, effects, failures, rec } = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['close', 'read']);
    expect(end).toEqual({ kind: 'done' });
    expect(effects).toEqual([{ call: 'close', key: 'key-1', how: 'already' }]);
    expect(failures).toEqual([]);
    expect(rec.eset).toMatchObject({ status: CLOSED, reason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE' });
    expect(rec.failed).toBeUndefined();
  });

  it('400 to a close, incident still open: the close is refused for good', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(400, { reason: 'invalid closure reason' }), incident(OPEN));

    const { end, effects, failures, rec } = await rig.turn();

    expect(rig.eset.kinds()).toEqual(['close', 'read']);
    expect(end).toEqual({ kind: 'done' });
    expect(effects).toEqual([]);
    const reason = 'ESET answered 400: invalid closure reason';
    expect(failures).toEqual([{ action: 'close', key: 'key-1', reason, status: 400 }]);
    expect(rec.failed).toMatchObject({ key: 'key-1', action: 'close', reason, status: 400 });
  });

  it('403 to a close: failed for good, nothing read, nothing repeated', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent(), commentEvent('Host isolated')]);
    rig.eset.answers(status(403, { reason: 'permission denied' }), posted('c-1'));

    const { end, failures, rec } = await rig.turn();

    expect(failures).toEqual([
      { action: 'close', key: 'key-1', reason: 'ESET answered 403: permission denied', status: 403 },
    ]);
    // The comment is another piece of work: it still goes out.
    expect(rig.eset.kinds()).toEqual(['close', 'comment']);
    expect(end).toEqual({ kind: 'done' });
    expect(rec.failed).toMatchObject({ key: 'key-1', status: 403 });
  });

  it('404 to a close: everything outstanding for the incident fails', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent(), commentEvent('Host isolated'), commentEvent('Ticket closed')]);
    rig.eset.answers(status(404, { reason: 'incident not found' }));

    // Act
    const { end, failures, rec } = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(end).toEqual({ kind: 'done' });
    const reason = 'ESET answered 404: incident not found';
    expect(failures.map((f) => [f.action, f.key, f.reason, f.status, f.comment?.text])).toEqual([
      ['close', 'key-1', reason, 404, undefined],
      ['comment', 'key-2', reason, 404, 'Host isolated'],
      ['comment', 'key-3', reason, 404, 'Ticket closed'],
    ]);
    expect(rec.comments).toEqual([]);
    expect(rec.unknown).toBeUndefined();
    expect(rec.pending).toBeUndefined();
  });

  it('a redirect: not followed, backs off, and the next try still goes without a read', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(302, { location: 'https://login.example.com/sso' }), status(200));

    // Act
    const first = await rig.turn();
    rig.clock.set(wakeAt(first.end));
    await rig.turn();

    // Assess
    expect(first.end).toEqual({
      kind: 'wait',
      at: T0 + 3_000,
      why: 'retry',
      reason: 'ESET answered 302 (a redirect to https://login.example.com/sso, not followed)',
    });
    expect(first.rec.touched).toBeUndefined();
    expect(rig.eset.kinds()).toEqual(['close', 'close']);
  });

  it('a read answered 404 fails everything outstanding', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent(), commentEvent('Host isolated')], (r) => {
      r.touched = true;
    });
    rig.eset.answers(status(404));

    const { end, failures } = await rig.turn();

    expect(rig.eset.kinds()).toEqual(['read']);
    expect(end).toEqual({ kind: 'done' });
    expect(failures.map((f) => [f.action, f.status])).toEqual([
      ['close', 404],
      ['comment', 404],
    ]);
  });
});

describe('Session: reopen and comments', () => {
  it('reopens an incident it closed when a later reopen arrives', async () => {
    // Prepare: closed by the bridge, then the ticket was reopened a minute later.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(200));
    await rig.turn();
    rig.clock.advance(60_000);
    await rig.seed([reopenEvent()]);
    rig.eset.answers(incident(CLOSED), status(200));

    // Act
    const { end, effects, rec } = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['close', 'read', 'reopen']);
    expect(rig.eset.calls[2]).toMatchObject({
      method: 'POST',
      path: `/v2/incidents/${INCIDENT}:reopen`,
      body: JSON.stringify({ comment: { text: 'Reopened: seen again' } }),
    });
    expect(end).toEqual({ kind: 'done' });
    expect(effects).toEqual([{ call: 'reopen', key: 'key-2', how: 'applied' }]);
    expect(rec.eset?.status).toBe(OPEN);
    expect(rec.applied).toEqual({ closes: 1, reopens: 1, comments: 0 });
  });

  it('posts waiting comments in order after the close, and remembers their uuids as its own', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent(), commentEvent('First'), commentEvent('Second')]);
    rig.eset.answers(status(200), posted('c-1'), posted('c-2'));

    const { effects, rec } = await rig.turn();

    expect(rig.eset.kinds()).toEqual(['close', 'comment', 'comment']);
    expect(rig.eset.calls.slice(1).map((c) => c.body)).toEqual([
      JSON.stringify({ comment: { text: 'First' } }),
      JSON.stringify({ comment: { text: 'Second' } }),
    ]);
    expect(effects.map((e) => `${e.call} ${e.key} ${e.how}`)).toEqual([
      'close key-1 applied',
      'comment key-2 applied',
      'comment key-3 applied',
    ]);
    expect(rec.comments).toEqual([]);
    expect(rec.ownComments).toEqual(['c-1', 'c-2']);
    expect(rec.applied.comments).toBe(2);
  });

  it('lists the comments first when a comment has an unknown outcome, and does not post it again when found', async () => {
    // Prepare: the comment got a 503; ESET had posted it all the same.
    const rig = incidentRig();
    await rig.seed([commentEvent('Host isolated')]);
    rig.eset.answers(incident(OPEN), status(503));
    const first = await rig.turn();
    expect(first.rec.unknown).toMatchObject({ call: 'comment', key: 'key-1', settle: false });
    rig.eset.answers(
      incident(OPEN),
      commentList([
        { uuid: 'c-final', text: 'Host isolated', isFinalComment: true },
        { uuid: 'c-9', text: 'Host isolated' },
      ]),
    );

    // Act
    rig.clock.set(wakeAt(first.end));
    const { end, effects, rec } = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['read', 'comment', 'read', 'comments']);
    expect(rig.eset.calls[3]?.path).toBe(`/v2/incidents/${INCIDENT}/comments`);
    expect(end).toEqual({ kind: 'done' });
    expect(effects).toEqual([{ call: 'comment', key: 'key-1', how: 'already' }]);
    expect(rec.comments).toEqual([]);
    expect(rec.unknown).toBeUndefined();
    expect(rec.ownComments).toEqual(['c-9']);
    expect(rec.applied.comments).toBe(0);
  });

  it("posts a comment with an unknown outcome when the only match is the bridge's own earlier comment", async () => {
    // Prepare: "Host isolated" was posted once (c-1); the ticket says it again, and that post got a 503.
    const rig = incidentRig();
    await rig.seed([commentEvent('Host isolated', { eventId: 'note-1' })]);
    rig.eset.answers(incident(OPEN), posted('c-1'));
    await rig.turn();
    await rig.seed([commentEvent('Host isolated', { eventId: 'note-2' })]);
    rig.eset.answers(incident(OPEN), status(503));
    const failed = await rig.turn();
    rig.eset.answers(incident(OPEN), commentList([{ uuid: 'c-1', text: 'Host isolated' }]), posted('c-2'));

    // Act
    rig.clock.set(wakeAt(failed.end));
    const { effects, rec } = await rig.turn();

    // Assess
    expect(rig.eset.kinds()).toEqual(['read', 'comment', 'read', 'comment', 'read', 'comments', 'comment']);
    expect(effects).toEqual([{ call: 'comment', key: 'key-2', how: 'applied' }]);
    expect(rec.ownComments).toEqual(['c-1', 'c-2']);
    expect(rec.applied.comments).toBe(2);
  });
});

describe('Session: the lease', () => {
  it('throws LeaseLostError, and calls nothing, once the lease moved to another worker', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    const session = await rig.session();
    await rig.patch((r) => {
      r.lease = { owner: 'retry:other', until: T0 + 60_000 };
    });

    // Act
    const run = session.run();

    // Assess
    await expect(run).rejects.toBeInstanceOf(LeaseLostError);
    expect(rig.eset.calls).toEqual([]);
    expect((await rig.record()).lease?.owner).toBe('retry:other');
  });

  it('keeps a ticket event merged during the session: its last write re-applies on the latest record', async () => {
    // Prepare: a comment arrives while the close is under way.
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(async () => {
      await updateRecord(rig.store, TENANT, INCIDENT, (r) => {
        if (r) mergeEvent(r, commentEvent('Arrived meanwhile'), { key: 'late', now: T0, correlationId: 'c' });
        return r;
      });
      return status(200);
    });
    const session = await rig.session();

    // Act
    const end = await session.run();
    const saved = await session.finish();

    // Assess: the session never saw the comment, the record keeps it, with the close applied.
    expect(end).toEqual({ kind: 'done' });
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(saved.rec.comments.map((c) => c.text)).toEqual(['Arrived meanwhile']);
    expect(saved.rec.eset?.status).toBe(CLOSED);
    expect(saved.rec.applied.closes).toBe(1);
    expect(saved.rec.lease).toBeUndefined();
    expect(outstanding(saved.rec)).toBe(true);
  });
});

describe('Session: the retry budget', () => {
  it('fails outstanding work older than the budget, with the last reason, without calling ESET', async () => {
    // Prepare
    const rig = incidentRig();
    await rig.seed([closeEvent()]);
    rig.eset.answers(status(503, { reason: 'upstream unavailable' }));
    await rig.turn();

    // Act
    rig.clock.set(T0 + POLICY.maxAgeSeconds * 1000 + 1_000);
    const { end, failures, rec } = await rig.turn();

    // Assess
    const reason = 'retry budget exhausted after 86401 s: ESET answered 503: upstream unavailable';
    expect(end).toEqual({ kind: 'done' });
    expect(failures).toEqual([{ action: 'close', key: 'key-1', reason }]);
    expect(rig.eset.kinds()).toEqual(['close']);
    expect(rec.failed).toMatchObject({ key: 'key-1', reason });
    expect(rec.unknown).toBeUndefined();
  });

  it('still works on the last millisecond of the budget', async () => {
    const rig = incidentRig();
    await rig.seed([closeEvent()], (r) => {
      r.touched = true;
    });
    rig.eset.answers(incident(OPEN), status(200));

    rig.clock.set(T0 + POLICY.maxAgeSeconds * 1000);
    const { failures, effects } = await rig.turn();

    expect(failures).toEqual([]);
    expect(effects).toEqual([{ call: 'close', key: 'key-1', how: 'applied' }]);
  });
});
