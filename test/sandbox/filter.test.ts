import { describe, expect, it } from 'vitest';
import { compileFilter, ListQueryError, parseListQuery } from '../../infra/local/eset-sandbox/filter';
import { newIncidentRecord } from '../../infra/local/eset-sandbox/incidents';

const T0 = Date.UTC(2027, 0, 15, 12, 0, 0);

describe('filter subset', () => {
  const incident = {
    ...newIncidentRecord('u', 'INCIDENT_STATUS_OPEN', { displayName: 'Mimikatz on DC01' }, T0),
    updateTime: T0 + 1,
  };
  const t = (offsetMs: number, zone = 'Z') => {
    const iso = new Date(T0 + offsetMs).toISOString();
    return `timestamp("${zone === 'Z' ? iso : iso.replace('Z', zone)}")`;
  };

  it.each([
    ['', true],
    [`update_time > ${t(0)}`, true],
    [`update_time > ${t(1)}`, false],
    [`update_time <= ${t(1)}`, true],
    [`update_time == ${t(1)}`, true],
    [`update_time != ${t(1)}`, false],
    [`create_time < ${t(0)}`, false],
    ['update_time > timestamp("2027-01-15T12:00:00.000999999Z")', true],
    ['update_time > timestamp("2027-01-15T12:00:00.001000001Z")', false],
    ['displayName.contains("DC01")', true],
    ['displayName.contains("dc01")', false],
    ['  status  ==  "INCIDENT_STATUS_OPEN"  AND  severity = "INCIDENT_SEVERITY_LEVEL_MEDIUM" ', true],
  ])('evaluates %j to %s', (filter, expected) => {
    expect(compileFilter(filter)(incident)).toBe(expected);
  });

  it.each([
    'status = "INCIDENT_STATUS_OPEN" and severity = "INCIDENT_SEVERITY_LEVEL_LOW"',
    'NOT status = "INCIDENT_STATUS_OPEN"',
    '-status = "INCIDENT_STATUS_OPEN"',
    '(status = "INCIDENT_STATUS_OPEN")',
    'status:"INCIDENT_STATUS_OPEN"',
    'status < "INCIDENT_STATUS_OPEN"',
    "status = 'INCIDENT_STATUS_OPEN'",
    'update_time > timestamp("2027-02-30T00:00:00Z")',
    'update_time > timestamp("2027-01-01 00:00:00Z")',
    'update_time > timestamp(1700000000)',
    'displayName = "x"',
    'displayName.startsWith("x")',
    'description.contains("x")',
    'displayName.contains("\\n")',
    'status = "INCIDENT_STATUS_OPEN" AND',
    'status =',
  ])('refuses %j', (filter) => {
    expect(() => compileFilter(filter)).toThrow(ListQueryError);
  });

  it('refuses repeated and unknown query parameters', () => {
    expect(() => parseListQuery(new URLSearchParams('filter=&filter='))).toThrow(/more than once/);
    expect(() => parseListQuery(new URLSearchParams('order_by=severity'))).toThrow(/unknown/);
    expect(parseListQuery(new URLSearchParams('pageSize=1001'))).toMatchObject({ pageSize: 1000 });
  });
});
