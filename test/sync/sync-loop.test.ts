import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_COMMENT_MARKER } from '../../functions/events/ticket-event';
import { type Runtime, startRuntime } from '../../infra/local/runtime';
import type { SyncActivity } from '../../infra/local/sync-runtime';
import { FAST_TIMING } from '../helpers/harness';
import {
  bridgeWrites,
  changingCalls,
  descriptionOf,
  issueOf,
  issuesOf,
  newIncident,
  waitFor,
} from './helpers';

/**
 * The whole loop through `npm start`'s wiring: the real receive, retry and sync handlers, the ESET
 * sandbox, dynalite, and the embedded Jira stand-in whose admin webhooks reach the bridge's own
 * `/jira` route, signed. The sync runs when a test says so (its timer is off).
 */
let rt: Runtime;
const activity: SyncActivity[] = [];

beforeAll(async () => {
  rt = await startRuntime({
    env: { SYNC_TARGET: 'jira', SYNC_INTERVAL_SECONDS: '3600', ...FAST_TIMING },
    port: 0,
    seedIncidents: 0,
    logLevel: 'SILENT',
    timing: 'fast',
    syncTimer: false,
    retryConcurrency: 1,
    onSyncActivity: (a) => activity.push(a),
  });
});
afterAll(async () => {
  await rt?.stop();
});

const sandbox = () => rt.sandbox as NonNullable<Runtime['sandbox']>;
const jira = () => rt.jira as NonNullable<Runtime['jira']>;
/**
 * Runs the sync as a schedule tick would, again while it left something to retry (a 429 from ESET's
 * rate limit, which the receive and retry Lambdas share with it), at most five times; then waits for
 * the Jira webhooks its changes caused. Counts are summed over the runs.
 */
const sync = async (opts: { deliveries?: boolean } = {}) => {
  const runner = rt.sync as NonNullable<Runtime['sync']>;
  let report = await runner.runNow();
  for (let i = 0; i < 4 && !report.busy && (report.retry > 0 || !report.complete); i++) {
    const next = await runner.runNow();
    report = { ...next, created: report.created + next.created, linked: report.linked + next.linked };
  }
  if (opts.deliveries !== false) await jira().deliveriesSettled();
  return report;
};
const comments = (uuid: string) => issueOf(jira(), uuid).comments;

describe('ESET incidents become Jira issues', () => {
  it('opens one issue per new incident at or above the minimum severity, labelled and linked; none below it or closed', async () => {
    // Prepare
    const high = newIncident(sandbox(), { severity: 'HIGH', name: 'Ransomware on SRV-1' });
    const medium = newIncident(sandbox(), { severity: 'MEDIUM' });
    const low = newIncident(sandbox(), { severity: 'LOW' });
    const closed = newIncident(sandbox(), { severity: 'HIGH', status: 'closed' });

    // Act
    const report = await sync();

    // Assess
    expect(report.complete).toBe(true);
    const issue = issueOf(jira(), high);
    expect(issue.summary).toContain('Ransomware on SRV-1');
    expect(issue.labels).toContain(`eset-incident-${high}`);
    expect(issue.category).toBe('new');
    expect(await descriptionOf(jira(), issue.key)).toContain(`${rt.esetApiUrl}/v2/incidents/${high}`);
    expect(issuesOf(jira(), medium)).toHaveLength(1);
    expect(issuesOf(jira(), low)).toHaveLength(0);
    expect(issuesOf(jira(), closed)).toHaveLength(0);
    // The issue's creation comes back as a webhook, which the /jira route ignores.
    for (const id of [high, medium]) expect(changingCalls(sandbox(), id)).toEqual([]);
  });

  it('makes no second issue over more runs, two runs at once, or a restart with empty sync state', async () => {
    // Prepare
    const ids = [newIncident(sandbox()), newIncident(sandbox(), { severity: 'MEDIUM' })];
    await sync();

    // Act
    await sync();
    await sync();
    const together = await Promise.all([sync(), sync()]);
    const table = rt.config.stateTable as { table: string; endpoint: string };
    const dynamo = new DynamoDBClient({
      endpoint: table.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const drop = (id: string) =>
      dynamo.send(new DeleteItemCommand({ TableName: table.table, Key: { id: { S: id } } }));
    await drop(`sync#${rt.config.tenant}#watermark`);
    for (const id of ids) await drop(`link#${rt.config.tenant}#${id}`);
    dynamo.destroy();
    const afterRestart = await sync();

    // Assess
    expect(together.filter((r) => r.busy)).toHaveLength(1);
    for (const id of ids) expect(issuesOf(jira(), id)).toHaveLength(1);
    expect(afterRestart.linked).toBeGreaterThanOrEqual(2);
    expect(afterRestart.created).toBe(0);
  });
});

describe('changes in ESET reach the issue, and nothing comes back', () => {
  it('tells a close in the ESET console (who, why, the final comment) and moves the issue to done; the echo changes nothing at ESET', async () => {
    // Prepare
    const id = newIncident(sandbox());
    await sync();
    sandbox().consoleClose(id, {
      reason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      comment: 'Benign admin tool, approved by IT.',
      by: 'ana@example.com',
    });

    // Act
    await sync();
    await sync();

    // Assess
    const issue = issueOf(jira(), id);
    expect(issue.category).toBe('done');
    expect(issue.comments).toHaveLength(1);
    const text = issue.comments[0]?.text ?? '';
    expect(text).toContain(sandbox().userUuid('ana@example.com'));
    expect(text).toContain('false positive');
    expect(text).toContain('Benign admin tool, approved by IT.');
    expect(text).toContain(BRIDGE_COMMENT_MARKER);
    const echoes = jira()
      .state()
      .deliveries.filter((d) => d.issueKey === issue.key && d.webhookEvent !== 'jira:issue_created');
    expect(echoes.length).toBeGreaterThanOrEqual(2);
    expect(echoes.every((d) => d.delivered)).toBe(true);
    expect(changingCalls(sandbox(), id)).toEqual([]);
    expect(sandbox().state().incidents[id]).toMatchObject({ closesApplied: 0, reopensApplied: 0 });
  });

  it('closes the incident once when the issue is resolved in Jira, and later runs tell Jira nothing back', async () => {
    // Prepare
    const id = newIncident(sandbox());
    await sync();
    const key = issueOf(jira(), id).key;

    // Act
    jira().resolve(key, { resolution: 'Done' });
    await jira().deliveriesSettled();
    await waitFor(
      'the incident closed in ESET',
      () => sandbox().state().incidents[id]?.status === 'INCIDENT_STATUS_CLOSED',
    );
    const before = bridgeWrites(jira(), key).length;
    await sync();
    await sync();

    // Assess
    expect(sandbox().state().incidents[id]).toMatchObject({ closesApplied: 1, reopensApplied: 0 });
    expect(changingCalls(sandbox(), id).filter((c) => c.call === 'close' && c.status === 200)).toHaveLength(
      1,
    );
    expect(bridgeWrites(jira(), key)).toHaveLength(before);
    expect(comments(id)).toEqual([]);
    expect(issueOf(jira(), id).category).toBe('done');
  });

  it("copies a comment made in ESET once, and never copies back the bridge's own comments", async () => {
    // Prepare
    const id = newIncident(sandbox());
    await sync();
    const key = issueOf(jira(), id).key;

    // Act
    sandbox().consoleComment(id, 'Host isolated by the SOC.', 'bob@example.com');
    await sync();
    jira().comment(key, 'Please check SRV-2 as well.');
    await jira().deliveriesSettled();
    await waitFor('the Jira comment at ESET', () =>
      (sandbox().state().incidents[id]?.comments ?? []).some((c) => c.text.includes('Please check SRV-2')),
    );
    await sync();
    await sync();

    // Assess
    const texts = comments(id).map((c) => c.text);
    expect(texts.filter((t) => t.includes('Host isolated by the SOC.'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Please check SRV-2'))).toHaveLength(1);
    expect(texts).toHaveLength(2);
    const esetTexts = (sandbox().state().incidents[id]?.comments ?? []).map((c) => c.text);
    expect(esetTexts).toHaveLength(2);
    expect(changingCalls(sandbox(), id).filter((c) => c.call === 'comment' && c.status === 200)).toHaveLength(
      1,
    );
  });

  it('moves the issue out of done when the incident is reopened in ESET', async () => {
    // Prepare
    const id = newIncident(sandbox());
    await sync();
    sandbox().consoleClose(id, { comment: 'Looked fine.' });
    await sync();
    expect(issueOf(jira(), id).category).toBe('done');

    // Act
    sandbox().consoleReopen(id, { comment: 'Seen again on SRV-3.' });
    await sync();
    await sync();

    // Assess
    const issue = issueOf(jira(), id);
    expect(issue.category).not.toBe('done');
    expect(issue.comments.filter((c) => c.text.includes('Seen again on SRV-3.'))).toHaveLength(1);
    expect(changingCalls(sandbox(), id)).toEqual([]);
    expect(sandbox().state().incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
  });

  it('ignores a late echo of its own done transition that arrives after the incident was reopened', async () => {
    // Prepare: a second registration delivers the echo of the issue's next done transition late.
    const id = newIncident(sandbox());
    await sync();
    const key = issueOf(jira(), id).key;
    let held = false;
    const secret = JSON.parse((rt.config.webhookSecret as { kind: 'value'; value: string }).value) as Record<
      string,
      string
    >;
    jira().registerWebhook({
      url: new URL('/jira', rt.webhookUrl).href,
      secret: secret['/jira'] as string,
      events: ['jira:issue_updated'],
      delayMs: (payload) => {
        const issue = payload.issue as {
          key?: string;
          fields?: { status?: { statusCategory?: { key?: string } } };
        };
        if (held || issue.key !== key || issue.fields?.status?.statusCategory?.key !== 'done') return 0;
        held = true;
        return 1_000;
      },
    });
    sandbox().consoleClose(id, { comment: 'False alarm.' });
    await sync({ deliveries: false });

    // Act: reopened in ESET and mirrored before the held echo arrives.
    sandbox().consoleReopen(id);
    await sync({ deliveries: false });
    const reopenedFirst = jira()
      .state()
      .deliveries.filter((d) => d.issueKey === key && !d.delivered);
    await jira().deliveriesSettled();

    // Assess
    expect(held).toBe(true);
    expect(reopenedFirst.length).toBeGreaterThanOrEqual(1);
    expect(sandbox().state().incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(changingCalls(sandbox(), id)).toEqual([]);
    expect(issueOf(jira(), id).category).not.toBe('done');
  });

  it('comments on the issue when the bridge dead-letters the close it asked for', async () => {
    // Prepare
    const id = newIncident(sandbox());
    await sync();
    const key = issueOf(jira(), id).key;
    sandbox().script(id, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 403, body: '{"code":7,"message":"permission denied","details":[]}' },
    ]);

    // Act
    jira().resolve(key);
    await jira().deliveriesSettled();
    await waitFor('the close dead-lettered', async () => (await rt.queueDepths()).deadLetter.visible > 0);
    await sync();
    await sync();

    // Assess
    const notes = comments(id).filter((c) => c.text.includes('could not close'));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.text).toContain('403');
    expect(notes[0]?.text).toContain(BRIDGE_COMMENT_MARKER);
    expect(sandbox().state().incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
  });
});
