import { describe, expect, it } from 'vitest';
import type { EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { clientFor, T0, token, useSandbox } from './sandbox-client';

const harness = useSandbox();

interface ListBody {
  incidents: Array<Record<string, unknown> & { uuid: string }>;
  nextPageToken: string;
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Seeds incidents one second apart, so create and update times order them by number. */
function seed(sb: EsetSandbox, count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) {
    sb.addIncident(id(n), 'INCIDENT_STATUS_OPEN', { createTime: new Date(T0 + n * 1_000).toISOString() });
    ids.push(id(n));
  }
  return ids;
}

async function started(options: Parameters<typeof harness.start>[0] = {}) {
  const sb = await harness.start({ rateLimitPerSecond: 0, ...options });
  const client = clientFor(sb, await token(sb));
  const list = async (query: Record<string, string> = {}) => {
    const res = await client.list(query);
    return { status: res.status, body: (await res.json()) as ListBody & { code?: number } };
  };
  return { sb, client, list };
}

describe('list incidents', () => {
  it('lists every incident in create-time order, without device and detection uuids, on one page', async () => {
    const { sb, list } = await started();
    const ids = seed(sb, 3).reverse();
    for (const uuid of ids)
      sb.addIncident(uuid, 'INCIDENT_STATUS_OPEN', { createTime: new Date(T0).toISOString() });
    harness.advance(1);
    sb.addIncident('a-newest');

    const { status, body } = await list();

    expect(status).toBe(200);
    // Same create time: ties go by uuid, so the order is total.
    expect(body.incidents.map((i) => i.uuid)).toEqual([...ids].sort().concat('a-newest'));
    expect(body.nextPageToken).toBe('');
    expect(Object.keys(body.incidents[0] ?? {})).not.toContain('detectionUuids');
    expect(Object.keys(body.incidents[0] ?? {})).not.toContain('deviceUuids');
  });

  it('pages with pageSize and pageToken until the token is empty', async () => {
    const { sb, list } = await started();
    const ids = seed(sb, 7);

    const seen: string[] = [];
    const tokens: string[] = [];
    let pageToken = '';
    do {
      const { body } = await list({ pageSize: '3', ...(pageToken === '' ? {} : { pageToken }) });
      seen.push(...body.incidents.map((i) => i.uuid));
      pageToken = body.nextPageToken;
      tokens.push(pageToken);
    } while (pageToken !== '');

    expect(seen).toEqual(ids);
    expect(tokens).toHaveLength(3);
    expect(tokens.every((t) => t.length <= 128)).toBe(true);
  });

  it('answers 50 by default and for pageSize=0, and at most 1000 for larger sizes', async () => {
    const { sb, list } = await started();
    seed(sb, 1_001);

    const byDefault = await list();
    const zero = await list({ pageSize: '0' });
    const huge = await list({ pageSize: '99999' });

    expect(byDefault.body.incidents).toHaveLength(50);
    expect(zero.body.incidents).toHaveLength(50);
    expect(huge.body.incidents).toHaveLength(1_000);
    expect(huge.body.nextPageToken).not.toBe('');
  });

  it('is offset-based: an incident that moves between pages can be skipped or seen twice', async () => {
    const { sb, client, list } = await started();
    const ids = seed(sb, 4);
    const byUpdate = { orderBy: 'update_time', pageSize: '2' };

    const first = await list(byUpdate);
    harness.advance(60_000);
    // The first incident changes, so it moves to the end; everything after it shifts forward one place.
    await client.comment(id(0), 'moved');
    const second = await list({ ...byUpdate, pageToken: first.body.nextPageToken });

    expect(first.body.incidents.map((i) => i.uuid)).toEqual([ids[0], ids[1]]);
    expect(second.body.incidents.map((i) => i.uuid)).toEqual([ids[3], ids[0]]);
    // ids[2] was never listed and ids[0] twice: a client that must see every change has to overlap.
  });

  it('filters by update time and status, in snake_case or lowerCamelCase, with == or =', async () => {
    const { sb, list } = await started();
    const ids = seed(sb, 5);
    harness.advance(10_000);
    sb.consoleClose(id(4));
    const at = (n: number) => new Date(T0 + n * 1_000).toISOString();

    const since = await list({ filter: `update_time >= timestamp("${at(2)}")` });
    const window = await list({
      filter: `updateTime > timestamp("${at(1)}") AND incident.update_time < timestamp("${at(4)}")`,
    });
    const closed = await list({ filter: 'status == "INCIDENT_STATUS_CLOSED"' });
    const open = await list({
      filter: 'status = "INCIDENT_STATUS_OPEN" AND create_time >= timestamp("2027-01-15T13:00:03+01:00")',
    });

    expect(since.body.incidents.map((i) => i.uuid)).toEqual(ids.slice(2));
    expect(window.body.incidents.map((i) => i.uuid)).toEqual(ids.slice(2, 4));
    expect(closed.body.incidents.map((i) => i.uuid)).toEqual([id(4)]);
    expect(open.body.incidents.map((i) => i.uuid)).toEqual([id(3)]);
  });

  it('filters by severity and by part of the display name', async () => {
    const { sb, list } = await started();
    sb.addIncident('a', 'INCIDENT_STATUS_OPEN', {
      severity: 'INCIDENT_SEVERITY_LEVEL_HIGH',
      displayName: 'Ransomware',
    });
    sb.addIncident('b', 'INCIDENT_STATUS_OPEN', {
      severity: 'INCIDENT_SEVERITY_LEVEL_LOW',
      displayName: 'Phish "quoted"',
    });

    const high = await list({ filter: 'severity != "INCIDENT_SEVERITY_LEVEL_LOW"' });
    const named = await list({ filter: 'displayName.contains("\\"quoted\\"")' });
    const prefixed = await list({ filter: 'incident.display_name.contains("Ransom")' });

    expect(high.body.incidents.map((i) => i.uuid)).toEqual(['a']);
    expect(named.body.incidents.map((i) => i.uuid)).toEqual(['b']);
    expect(prefixed.body.incidents.map((i) => i.uuid)).toEqual(['a']);
  });

  it('orders by several fields, each ascending unless followed by desc', async () => {
    const { sb, list } = await started();
    const add = (uuid: string, severity: 'LOW' | 'HIGH', displayName: string) =>
      sb.addIncident(uuid, 'INCIDENT_STATUS_OPEN', {
        severity: `INCIDENT_SEVERITY_LEVEL_${severity}`,
        displayName,
      });
    add('1', 'LOW', 'b');
    add('2', 'HIGH', 'b');
    add('3', 'HIGH', 'a');
    add('4', 'LOW', 'a');

    const ordered = await list({ orderBy: 'severity desc, display_name' });
    const camel = await list({ orderBy: 'displayName desc,severity' });

    expect(ordered.body.incidents.map((i) => i.uuid)).toEqual(['3', '2', '4', '1']);
    expect(camel.body.incidents.map((i) => i.uuid)).toEqual(['1', '2', '4', '3']);
  });

  it('answers 400 with an rpc status to anything outside the supported subset', async () => {
    const { sb, list } = await started();
    seed(sb, 3);
    const { body: page } = await list({ pageSize: '1' });

    const refused: Array<Record<string, string>> = [
      { filter: 'status = "INCIDENT_STATUS_OPEN" OR status = "INCIDENT_STATUS_CLOSED"' },
      { filter: 'status = "INCIDENT_STATUS_OPEN" && severity = "INCIDENT_SEVERITY_LEVEL_LOW"' },
      { filter: 'status = "OPEN"' },
      { filter: 'update_time >= "2027-01-01T00:00:00Z"' },
      { filter: 'assignee_uuid = "x"' },
      { filter: 'x'.repeat(201) },
      { orderBy: 'assignee_uuid' },
      { orderBy: 'update_time asc' },
      { orderBy: 'o'.repeat(101) },
      { pageToken: 'not-a-token' },
      { pageToken: page.nextPageToken, orderBy: 'update_time' },
      { pageToken: 'a'.repeat(129) },
      { pageSize: '-1' },
      { pageSize: '100000' },
      { page_size: '10' },
    ];
    const answers = await Promise.all(refused.map((query) => list(query)));

    expect(answers.map((a) => a.status)).toEqual(refused.map(() => 400));
    expect(answers.map((a) => a.body.code)).toEqual(refused.map(() => 3));
  });
});
