import { describe, expect, it } from 'vitest';
import { parseTicketEvent } from '../../functions/events/ticket-event';
import { toClosureReason } from '../../functions/webhook/close-request';

const UUID = '123e4567-e89b-12d3-a456-426614174000';

describe('closure reasons', () => {
  it.each([
    ['TRUE_POSITIVE', 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE'],
    ['false-positive', 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE'],
    ['Suspicious', 'INCIDENT_RESOLVE_REASON_SUSPICIOUS'],
    ['unspecified', 'INCIDENT_RESOLVE_REASON_UNSPECIFIED'],
    ['INCIDENT_RESOLVE_REASON_FALSE_POSITIVE', 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE'],
    ['incident-resolve-reason-true-positive', 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE'],
  ])('maps %s to %s', (text, expected) => {
    expect(toClosureReason(text)).toBe(expected);
  });

  it.each(['', 'POSITIVE', 'TRUE POSITIVE', 'INCIDENT_RESOLVE_REASON_', 'malware'])('refuses %j', (text) => {
    expect(toClosureReason(text)).toBeUndefined();
  });
});

describe('parseTicketEvent (the canonical body)', () => {
  it('accepts a close without action and defaults the reason to UNSPECIFIED', () => {
    expect(parseTicketEvent({ incidentUuid: UUID, comment: 'done' })).toEqual({
      ok: true,
      event: {
        action: 'close',
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
        comment: 'done',
      },
    });
  });

  it('names every failing field', () => {
    const result = parseTicketEvent({
      incidentUuid: '../../v2/incidents',
      closureReason: 'nope',
      comment: 7,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(['incidentUuid', 'closureReason', 'comment']);
    expect(result.problems[2]?.message).toBe('must be a string');
  });

  it('says which required fields are missing', () => {
    const result = parseTicketEvent({});
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: 'incidentUuid', message: 'is required' },
        { path: 'comment', message: 'is required' },
      ],
    });
  });

  it('names the action rules together with every other problem', () => {
    expect(
      parseTicketEvent({ action: 'comment', closureReason: 'TRUE_POSITIVE', incidentUuid: 'x' }),
    ).toEqual({
      ok: false,
      problems: [
        { path: 'incidentUuid', message: 'must be a UUID (8-4-4-4-12 hex digits)' },
        { path: 'comment', message: 'is required for action comment' },
        { path: 'closureReason', message: 'is only allowed with action close' },
      ],
    });
  });
});
