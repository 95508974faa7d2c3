import { describe, expect, it } from 'vitest';
import type { TicketEvent } from '../../functions/events/ticket-event';
import { eventKey, type IncidentRecord, mergeEvent, newRecord } from '../../functions/incidents/record';
import { Session } from '../../functions/incidents/session';
import { MemoryIncidentStore } from '../../infra/local/memory-store';

/**
 * The incident record's side of the loop prevention: what the sync writes before it changes a
 * ticket (a mirrored wanted state and the bridge's ticket account) keeps the ticket's echo from
 * ever acting at ESET, however late it comes, and a mirrored state is never acted on itself.
 */
const UUID = '123e4567-e89b-12d3-a456-426614174000';
const BRIDGE = '712020:2c9f6a14-3e8b-4d5f-9a61-0c7b8e2d4f30';
const now = Date.parse('2026-12-01T10:05:00Z');

function mirrored(status: 'closed' | 'open', at: string): IncidentRecord {
  const rec = newRecord('default', UUID, now);
  rec.want = { status, at, key: `sync:${status}`, correlationId: 'sync:1', mirror: true };
  rec.eset = { status: status === 'closed' ? 'INCIDENT_STATUS_CLOSED' : 'INCIDENT_STATUS_OPEN', at };
  rec.echoActors = [BRIDGE.toLowerCase()];
  return rec;
}

const merge = (rec: IncidentRecord, event: TicketEvent) =>
  mergeEvent(rec, event, { key: eventKey('default', event), now, correlationId: 'c' });

describe("echoes of the bridge's own ticket changes", () => {
  it("drops an event made by the bridge's ticket account, whatever its time", () => {
    // Prepare
    const rec = mirrored('open', '2026-12-01T10:04:00.000Z');
    const event: TicketEvent = {
      action: 'close',
      incidentUuid: UUID,
      comment: 'Jira SEC-1 resolved (Done).',
      occurredAt: '2026-12-01T10:04:30.000Z',
      actor: BRIDGE,
    };

    // Act
    const result = merge(rec, event);

    // Assess
    expect(result).toBe('echo');
    expect(rec.want?.status).toBe('open');
    expect(rec.dirty).toBe(false);
  });

  it('finds a close older than the mirrored reopen stale, even without an actor', () => {
    // Prepare: the echo of a done transition made at 10:01, after the reopen was mirrored at 10:04.
    const rec = mirrored('open', '2026-12-01T10:04:00.000Z');
    const event: TicketEvent = {
      action: 'close',
      incidentUuid: UUID,
      comment: 'Jira SEC-1 resolved (Done).',
      occurredAt: '2026-12-01T10:01:00.000Z',
    };

    // Act
    const result = merge(rec, event);

    // Assess
    expect(result).toBe('stale');
    expect(rec.want).toMatchObject({ status: 'open', mirror: true });
    expect(rec.dirty).toBe(false);
  });

  it('takes a newer close by a person as what the ticket wants', () => {
    const rec = mirrored('open', '2026-12-01T10:04:00.000Z');
    const event: TicketEvent = {
      action: 'close',
      incidentUuid: UUID,
      comment: 'Jira SEC-1 resolved (Done).',
      occurredAt: '2026-12-01T10:06:00.000Z',
      actor: '5b10a2844c20165700ede21g',
    };

    expect(merge(rec, event)).toBe('new');
    expect(rec.want).toMatchObject({ status: 'closed' });
    expect(rec.want?.mirror).toBeUndefined();
  });

  it('never acts on a mirrored wanted state: a queued comment goes out, ESET is not closed', async () => {
    // Prepare: the ticket shows closed (mirrored), ESET was reopened since, a ticket comment waits.
    const store = new MemoryIncidentStore();
    const rec = mirrored('closed', '2026-12-01T10:04:00.000Z');
    rec.eset = { status: 'INCIDENT_STATUS_OPEN', at: '2026-12-01T10:04:30.000Z' };
    rec.comments.push({
      key: 'k1',
      text: 'Checked SRV-2.',
      at: '2026-12-01T10:05:00.000Z',
      correlationId: 'c',
    });
    rec.dirty = true;
    rec.lease = { owner: 'w', until: now + 60_000 };
    const saved = await store.put(rec, 0);
    const sent: string[] = [];
    const eset = {
      send: async (req: { call: string }) => {
        sent.push(req.call);
        if (req.call === 'read')
          return {
            kind: 'response' as const,
            status: 200,
            json: { incident: { status: 'INCIDENT_STATUS_OPEN' } },
            latencyMs: 1,
          };
        return {
          kind: 'response' as const,
          status: 200,
          json: { comment: { uuid: 'c-1' } },
          latencyMs: 1,
        };
      },
    };
    const session = new Session(
      {
        eset: () => eset,
        store,
        clock: { now: () => now },
        random: () => 0,
        policy: {
          baseSeconds: 1,
          maxDelaySeconds: 1,
          settleSeconds: 0,
          pendingResendSeconds: 0,
          maxAgeSeconds: 3600,
        },
      },
      saved as NonNullable<typeof saved>,
      { owner: 'w', deadline: now + 60_000, callTimeoutMs: 1000, minCallMs: 0 },
    );

    // Act
    const end = await session.run();

    // Assess
    expect(end).toEqual({ kind: 'done' });
    expect(sent).toEqual(['read', 'comment']);
    expect(session.failures).toEqual([]);
  });
});
