import { describe, expect, it } from 'vitest';
import type { TicketEvent } from '../../functions/events/ticket-event';
import {
  eventKey,
  type IncidentRecord,
  MAX_QUEUED_COMMENTS,
  mergeEvent,
  newRecord,
  outstanding,
} from '../../functions/incidents/record';
import { closeEvent, commentEvent, INCIDENT, reopenEvent, T0, TENANT } from '../helpers/incidents';

const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A record that took `events` in, at T0, with keys k1, k2, ... */
function recordWith(...events: TicketEvent[]): IncidentRecord {
  const rec = newRecord(TENANT, INCIDENT, T0);
  for (const [i, event] of events.entries()) {
    mergeEvent(rec, event, { key: `k${i + 1}`, now: T0, correlationId: `c${i + 1}` });
  }
  return rec;
}

const merge = (rec: IncidentRecord, event: TicketEvent, key: string, now = T0) =>
  mergeEvent(rec, event, { key, now, correlationId: `corr-${key}` });

describe('eventKey', () => {
  it('is the same for the same event and differs when anything the sender said differs', () => {
    const event = closeEvent({ occurredAt: iso(0) });
    expect(eventKey(TENANT, event)).toBe(eventKey(TENANT, { ...event }));
    expect(eventKey(TENANT, event)).not.toBe(eventKey('other-tenant', event));
    expect(eventKey(TENANT, event)).not.toBe(eventKey(TENANT, { ...event, comment: 'Other text' }));
    expect(eventKey(TENANT, event)).not.toBe(eventKey(TENANT, { ...event, occurredAt: iso(1) }));
    expect(eventKey(TENANT, event)).not.toBe(eventKey(TENANT, { ...event, eventId: 'note-2' }));
  });
});

describe('mergeEvent', () => {
  it('takes a close in as the wanted state and marks the record as having work', () => {
    const rec = newRecord(TENANT, INCIDENT, T0);

    const result = merge(rec, closeEvent({ occurredAt: iso(1) }), 'k1', T0 + 120_000);

    expect(result).toBe('new');
    expect(rec.want).toEqual({
      status: 'closed',
      reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      comment: 'Resolved in INC-1042: host reimaged',
      ticketId: 'INC-1042',
      at: iso(1),
      key: 'k1',
      correlationId: 'corr-k1',
    });
    expect(rec).toMatchObject({ dirty: true, seq: 1, keys: ['k1'] });
    expect(outstanding(rec)).toBe(true);
  });

  it('recognises a key it has seen as a duplicate and changes nothing', () => {
    // Prepare
    const rec = recordWith(closeEvent(), commentEvent('Host isolated'));
    const before = structuredClone(rec);

    // Act
    const results = [
      merge(rec, closeEvent(), 'k1', T0 + 5_000),
      merge(rec, commentEvent('x'), 'k2', T0 + 5_000),
    ];

    // Assess
    expect(results).toEqual(['duplicate', 'duplicate']);
    expect(rec).toEqual(before);
  });

  it('does not apply a close or reopen older than the wanted state, but remembers it', () => {
    // Prepare: closed at 10 past; a reopen from 5 past arrives late.
    const rec = recordWith(closeEvent({ occurredAt: iso(10) }));
    const want = structuredClone(rec.want);

    // Act
    const result = merge(rec, reopenEvent({ occurredAt: iso(5) }), 'late');
    const again = merge(rec, reopenEvent({ occurredAt: iso(5) }), 'late');

    // Assess
    expect(result).toBe('stale');
    expect(again).toBe('duplicate');
    expect(rec.want).toEqual(want);
    expect(rec.seq).toBe(1);
    expect(rec.keys).toEqual(['k1', 'late']);
  });

  it('takes a later close or reopen in, even one with the same time, and forgets an earlier failure', () => {
    const rec = recordWith(closeEvent({ occurredAt: iso(10) }));
    rec.failed = { key: 'k1', action: 'close', reason: 'ESET answered 403', status: 403, at: iso(11) };

    const result = merge(rec, reopenEvent({ occurredAt: iso(10) }), 'k2');

    expect(result).toBe('new');
    expect(rec.want).toMatchObject({ status: 'open', key: 'k2', comment: 'Reopened: seen again' });
    expect(rec.want?.reason).toBeUndefined();
    expect(rec.failed).toBeUndefined();
    expect(rec.seq).toBe(2);
  });

  it('keeps comments in the ticket’s order by time, equal times in their order of arrival', () => {
    // Prepare
    const rec = newRecord(TENANT, INCIDENT, T0);

    // Act
    merge(rec, commentEvent('third', { occurredAt: iso(3) }), 'a');
    merge(rec, commentEvent('first', { occurredAt: iso(1) }), 'b');
    merge(rec, commentEvent('second (a)', { occurredAt: iso(2) }), 'c');
    merge(rec, commentEvent('second (b)', { occurredAt: iso(2) }), 'd');
    merge(rec, commentEvent('no time: when it arrived', {}), 'e', T0 + 2.5 * 60_000);

    // Assess
    expect(rec.comments.map((c) => c.text)).toEqual([
      'first',
      'second (a)',
      'second (b)',
      'no time: when it arrived',
      'third',
    ]);
    expect(rec.comments[0]).toEqual({
      key: 'b',
      text: 'first',
      at: iso(1),
      ticketId: 'INC-1042',
      correlationId: 'corr-b',
    });
  });

  it(`refuses a comment beyond ${MAX_QUEUED_COMMENTS} waiting, without remembering it`, () => {
    // Prepare
    const rec = newRecord(TENANT, INCIDENT, T0);
    for (let i = 0; i < MAX_QUEUED_COMMENTS; i++) merge(rec, commentEvent(`c${i}`), `k${i}`);
    const before = structuredClone(rec);

    // Act
    const result = merge(rec, commentEvent('one too many'), 'extra');

    // Assess: unchanged, so the sender's retry is taken in once there is room.
    expect(result).toBe('too-many-comments');
    expect(rec).toEqual(before);
    rec.comments.shift();
    expect(merge(rec, commentEvent('one too many'), 'extra')).toBe('new');
  });

  it('starts a new retry budget with a new wanted state, even while work is outstanding', () => {
    const rec = recordWith(closeEvent());
    rec.progress = { budgetStart: iso(0), attempts: 4, lastReason: 'ESET answered 503' };

    merge(rec, reopenEvent(), 'k2', T0 + 600_000);

    expect(rec.progress).toEqual({ budgetStart: iso(10), attempts: 0 });
  });

  it('keeps the running budget when a comment joins outstanding work', () => {
    const rec = recordWith(closeEvent());
    rec.progress = { budgetStart: iso(0), attempts: 4, lastReason: 'ESET answered 503' };

    merge(rec, commentEvent('Host isolated'), 'k2', T0 + 600_000);

    expect(rec.progress).toEqual({ budgetStart: iso(0), attempts: 4, lastReason: 'ESET answered 503' });
  });

  it('starts a new budget for a comment arriving when nothing was outstanding', () => {
    const rec = recordWith(closeEvent());
    rec.dirty = false;
    rec.progress = { budgetStart: iso(0), attempts: 2 };

    merge(rec, commentEvent('Follow-up'), 'k2', T0 + 86_400_000);

    expect(rec.progress).toEqual({ budgetStart: new Date(T0 + 86_400_000).toISOString(), attempts: 0 });
  });

  it('remembers the last 200 keys', () => {
    const rec = newRecord(TENANT, INCIDENT, T0);
    for (let i = 0; i < 210; i++) merge(rec, closeEvent({ occurredAt: iso(i) }), `k${i}`);

    expect(rec.keys).toHaveLength(200);
    expect(rec.keys[0]).toBe('k10');
    expect(merge(rec, closeEvent({ occurredAt: iso(0) }), 'k0')).toBe('stale');
  });
});
