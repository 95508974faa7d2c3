import { describe, expect, it } from 'vitest';
import { toClosureReason } from '../../functions/webhook/close-request';
import { parseCloseRequest } from '../../functions/webhook/close-request-body';

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

describe('parseCloseRequest', () => {
  it('accepts the canonical body and defaults the reason to UNSPECIFIED', () => {
    expect(parseCloseRequest({ incidentUuid: UUID, comment: 'done' })).toEqual({
      ok: true,
      request: { incidentUuid: UUID, closureReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED', comment: 'done' },
    });
  });

  it('names every failing field', () => {
    const result = parseCloseRequest({
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
    const result = parseCloseRequest({});
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: 'incidentUuid', message: 'is required' },
        { path: 'comment', message: 'is required' },
      ],
    });
  });
});
