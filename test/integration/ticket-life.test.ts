import { afterEach, describe, expect, it } from 'vitest';
import { signedTicketEvent } from '../../infra/local/events';
import { type Harness, startHarness } from '../helpers/harness';

/**
 * The incident's life from the ticket: close, reopen and comments, in the ticket's order, each
 * reaching ESET exactly once, through the real handlers against the sandbox in repeat-applies
 * mode (a repeated close, reopen or comment is applied again, as ESET may).
 */
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const body = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;
const at = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, '0')}:00Z`;
const incident = (id: string) => h.sandbox.state().incidents[id];
const texts = (id: string, final?: boolean) =>
  (incident(id)?.comments ?? [])
    .filter((c) => final === undefined || c.isFinalComment === final)
    .map((c) => c.text);
const calls = (id: string, call: string) =>
  h.sandbox.state().calls.filter((c) => c.path.includes(id) && c.call === call && !c.responseIdResend);

describe('the ticket-side life of an incident', () => {
  it('closes, then reopens with a comment: open, one close, one reopen, the comment kept', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    const close = await h.receive(
      signedTicketEvent({ incidentUuid: id, comment: 'Malware removed.', occurredAt: at(1) }),
    );
    const reopen = await h.receive(
      signedTicketEvent({
        action: 'reopen',
        incidentUuid: id,
        comment: 'New evidence on SRV-2.',
        occurredAt: at(2),
      }),
    );
    expect(body(close)).toMatchObject({ status: 'closed' });
    expect(body(reopen)).toMatchObject({ status: 'reopened' });
    expect(incident(id)).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      closesApplied: 1,
      reopensApplied: 1,
    });
    expect(texts(id)).toEqual(['Malware removed.', 'New evidence on SRV-2.']);
  });

  it('adds a comment once when the same delivery comes twice, and a second comment as a second', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    const comment = {
      action: 'comment' as const,
      incidentUuid: id,
      comment: 'Seen on two more hosts.',
      occurredAt: at(3),
    };
    const first = await h.receive(signedTicketEvent(comment, { id: 'msg_c1' }));
    const again = await h.receive(signedTicketEvent(comment, { id: 'msg_c1' }));
    const other = await h.receive(
      signedTicketEvent({ ...comment, comment: 'Hosts isolated.', occurredAt: at(4) }),
    );
    expect(body(first)).toMatchObject({ status: 'commented' });
    expect(body(again)).toMatchObject({ status: 'commented', duplicate: true });
    expect(body(other)).toMatchObject({ status: 'commented' });
    expect(texts(id)).toEqual(['Seen on two more hosts.', 'Hosts isolated.']);
    expect(calls(id, 'comment')).toHaveLength(2);
  });

  it('posts a comment once when ESET applied it but answered 500: it looks at the comments first', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 500, applied: true }]);
    const answer = await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'Escalated to IR.' }),
    );
    expect(body(answer)).toMatchObject({ status: 'queued', reason: 'unknown' });
    await h.drain();
    expect(texts(id)).toEqual(['Escalated to IR.']);
    expect(calls(id, 'comment')).toHaveLength(1);
    expect(calls(id, 'comments')).toHaveLength(1);
  });

  it('applies a reopen sent while the close is pending (202) after that close: ends open', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'pending', resendsUntilReady: 1 }]);
    const close = await h.receive(
      signedTicketEvent({ incidentUuid: id, comment: 'Closing.', occurredAt: at(1) }),
    );
    expect(body(close)).toMatchObject({ status: 'queued', reason: 'pending' });
    const reopen = await h.receive(
      signedTicketEvent({ action: 'reopen', incidentUuid: id, occurredAt: at(2) }),
    );
    expect(reopen.statusCode).toBe(202);
    await h.drain();
    expect(incident(id)).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      closesApplied: 1,
      reopensApplied: 1,
    });
    expect(calls(id, 'close')).toHaveLength(1);
  });

  it('does not apply a close older than a reopen already received', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident('INCIDENT_STATUS_CLOSED');
    const reopen = await h.receive(
      signedTicketEvent({ action: 'reopen', incidentUuid: id, occurredAt: at(5) }),
    );
    const late = await h.receive(
      signedTicketEvent({ incidentUuid: id, comment: 'Old close.', occurredAt: at(4) }),
    );
    expect(body(reopen)).toMatchObject({ status: 'reopened' });
    expect(body(late)).toMatchObject({ status: 'stale', appliedEventAt: '2026-12-01T10:05:00.000Z' });
    expect(incident(id)).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      closesApplied: 0,
      reopensApplied: 1,
    });
    expect(h.outcomes.filter((o) => o.outcome === 'stale')).toHaveLength(1);
  });

  it('answers a reopen of an open incident 200 already-open, with no reopen call', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    const answer = await h.receive(
      signedTicketEvent({ action: 'reopen', incidentUuid: id, comment: 'Still open?' }),
    );
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({ status: 'already-open', esetStatus: 'INCIDENT_STATUS_OPEN' });
    expect(calls(id, 'reopen')).toHaveLength(0);
    expect(incident(id)?.reopensApplied).toBe(0);
  });

  it('posts queued comments in the order the ticket wrote them', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 429, retryAfter: '1' }]);
    // The first comment waits a second (429); two more arrive meanwhile, the later-written one first.
    await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'one', occurredAt: at(1) }),
    );
    await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'three', occurredAt: at(3) }),
    );
    await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'two', occurredAt: at(2) }),
    );
    await h.drain();
    expect(texts(id)).toEqual(['one', 'two', 'three']);
  });

  it('refuses an unknown action with the field path, never reading it as a close', async () => {
    h = await startHarness();
    const id = h.newIncident();
    const answer = await h.receive(
      signedTicketEvent({ action: 'delete' as 'close', incidentUuid: id, comment: 'x' }),
    );
    expect(answer.statusCode).toBe(400);
    expect(body(answer)).toMatchObject({
      errors: [{ path: 'action', message: 'must be one of close, reopen, comment' }],
    });
    expect(h.sandbox.state().calls).toHaveLength(0);
  });

  it('parks an earlier comment ESET refuses for good, with its text, and still posts the new one', async () => {
    h = await startHarness({ sandbox: { repeatApplies: true } });
    const id = h.newIncident();
    // The first comment waits (429, no Retry-After: due at once); the next webhook's session posts it.
    h.sandbox.script(id, [
      { kind: 'status', status: 429 },
      {
        kind: 'status',
        status: 403,
        body: '{"message":"comments are locked"}',
        contentType: 'application/json',
      },
    ]);
    const first = await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'first', occurredAt: at(1) }),
    );
    expect(first.statusCode).toBe(202);
    const second = await h.receive(
      signedTicketEvent({ action: 'comment', incidentUuid: id, comment: 'second', occurredAt: at(2) }),
    );
    expect(body(second)).toMatchObject({ status: 'commented' });
    const dead = await h.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.MessageAttributes?.reason?.StringValue).toBe('ESET answered 403: comments are locked');
    expect(dead[0]?.MessageAttributes?.action?.StringValue).toBe('comment');
    expect(JSON.parse(dead[0]?.Body ?? '{}')).toMatchObject({ comment: { text: 'first' } });
    expect(texts(id)).toEqual(['second']);
    expect(h.outcomes.filter((o) => o.outcome === 'rejected' && o.action === 'comment')).toHaveLength(1);
    await h.drain();
  });
});
