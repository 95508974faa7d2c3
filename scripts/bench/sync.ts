/**
 * The ESET-to-ticket sync over 1,000 incidents (`npm run bench -- --sync`): the sync as deployed
 * (createSync, the real ESET client taking its calls from the shared budget at the sync's priority,
 * `ESET_RATE_LIMIT` calls per second, the budget and state table in dynalite)
 * against the ESET sandbox (10 calls per second per API user, as ESET) and the Jira stand-in on
 * loopback. Four runs, each timed and counted from the sandbox's and the stand-in's own logs:
 *
 * 1. first: 1,000 new open incidents (at or above the minimum severity), no watermark yet;
 * 2. steady: nothing changed since (every incident is still inside the overlap, so listed again);
 * 3. paged: the same steady run with 100 incidents per page instead of ESET's maximum of 1000;
 * 4. changed: 100 of them changed in the ESET console since (50 closed with a final comment, 50
 *    commented).
 *
 * Sync lag is what the `SyncLagSeconds` metric reports after each run: from the watermark the run
 * saved to the run's end; a run that read every page saves its own start, so the lag is its length.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../functions/config/config';
import { createSync, type Sync } from '../../functions/sync/compose';
import type { SyncReport } from '../../functions/sync/engine';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { createJiraStandin, type JiraStandin } from '../../infra/local/jira-standin/server';
import { startLocalStateStore } from '../../infra/local/state-store';
import { round } from './stats';

export interface SyncRunFigures {
  name: string;
  /** Seconds from the saved watermark to the run's end (the SyncLagSeconds metric, unrounded). */
  lagSeconds: number;
  seconds: number;
  pages: number;
  esetCalls: { list: number; comments: number; token: number; total: number; status429: number };
  jiraCalls: number;
  created: number;
  told: SyncReport['told'];
  complete: boolean;
}

export interface SyncBenchResult {
  incidents: number;
  changed: number;
  /** ESET_RATE_LIMIT: the tenant's calls per second (the shared budget's rate). */
  rateLimit: number;
  runs: SyncRunFigures[];
  duplicates: number;
}

export async function measureSync(
  opts: { incidents?: number; changed?: number; rateLimit?: number; log?: (line: string) => void } = {},
): Promise<SyncBenchResult> {
  const count = opts.incidents ?? 1000;
  const changed = Math.min(opts.changed ?? 100, count);
  const rateLimit = opts.rateLimit ?? 10;
  const log = opts.log ?? (() => {});
  const sandbox = await createEsetSandbox();
  const jira = await createJiraStandin();
  const state = await startLocalStateStore();
  try {
    const env = {
      ESET_API_URL: sandbox.url,
      ESET_AUTH_URL: sandbox.url,
      ESET_USERNAME: 'sandbox-user',
      ESET_PASSWORD: 'sandbox-password',
      ESET_RATE_LIMIT: String(rateLimit),
      STATE_TABLE: state.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
      SYNC_TARGET: 'jira',
      JIRA_BASE_URL: jira.url,
      JIRA_EMAIL: jira.apiUser.email,
      JIRA_API_TOKEN: jira.apiUser.apiToken,
      JIRA_PROJECT_KEY: 'SEC',
    };
    const config = loadConfig(env, { stateTable: true, sync: true });
    const sync = createSync(config, { dynamo: state.client });
    const paged = createSync(config, { dynamo: state.client, pageSize: 100 });

    const ids = Array.from({ length: count }, () => randomUUID());
    for (const [i, uuid] of ids.entries()) {
      sandbox.addIncident(uuid, 'INCIDENT_STATUS_OPEN', {
        severity: i % 2 === 0 ? 'INCIDENT_SEVERITY_LEVEL_HIGH' : 'INCIDENT_SEVERITY_LEVEL_MEDIUM',
        displayName: `Bench incident ${i + 1}`,
      });
    }
    const runs: SyncRunFigures[] = [];
    const measure = async (name: string, s: Sync) => {
      log(`bench: sync run "${name}"`);
      const before = counts(sandbox, jira);
      const started = performance.now();
      const report = await s.run({ deadline: Date.now() + 15 * 60_000 });
      const seconds = (performance.now() - started) / 1000;
      const after = counts(sandbox, jira);
      const lag = report.watermark ? (report.finishedAt - Date.parse(report.watermark)) / 1000 : Number.NaN;
      runs.push({
        name,
        lagSeconds: round(lag, 2),
        seconds: round(seconds, 2),
        pages: report.pages,
        esetCalls: {
          list: after.list - before.list,
          comments: after.comments - before.comments,
          token: after.token - before.token,
          total: after.total - before.total,
          status429: after.status429 - before.status429,
        },
        jiraCalls: after.jira - before.jira,
        created: report.created,
        told: report.told,
        complete: report.complete,
      });
    };

    await measure(`first: ${count} new incidents`, sync);
    await measure('steady: nothing changed', sync);
    await measure('steady, 100 per page', paged);
    for (const [i, uuid] of ids.slice(0, changed).entries()) {
      if (i % 2 === 0) {
        sandbox.consoleClose(uuid, {
          reason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
          comment: 'Benign admin tool.',
          by: 'analyst@example.com',
        });
      } else {
        sandbox.consoleComment(uuid, 'Host isolated.', 'analyst@example.com');
      }
    }
    await measure(`changed: ${changed} in the console`, sync);

    const perIncident = new Map<string, number>();
    for (const issue of Object.values(jira.state().issues)) {
      for (const label of issue.labels.filter((l) => l.startsWith('eset-incident-')))
        perIncident.set(label, (perIncident.get(label) ?? 0) + 1);
    }
    const duplicates = [...perIncident.values()].filter((n) => n > 1).length;
    return { incidents: count, changed, rateLimit, runs, duplicates };
  } finally {
    await jira.close();
    await sandbox.close();
    await state.close();
  }
}

function counts(sandbox: EsetSandbox, jira: JiraStandin) {
  const calls = sandbox.state().calls;
  const tokens = sandbox.state().tokenRequests;
  return {
    list: calls.filter((c) => c.call === 'list').length,
    comments: calls.filter((c) => c.call === 'comments').length,
    token: tokens.password + tokens.refresh,
    total: calls.length,
    status429: calls.filter((c) => c.status === 429).length,
    jira: jira.state().calls.length,
  };
}

/** The figures as a table. */
export function syncTable(r: SyncBenchResult): string[] {
  const rows = [
    ['run', 'sync lag', 'ESET calls (list + comments)', 'pages', 'Jira calls', 'tickets / news'],
    ...r.runs.map((run) => [
      run.name,
      `${run.lagSeconds} s`,
      `${run.esetCalls.total} (${run.esetCalls.list} + ${run.esetCalls.comments})${run.esetCalls.token ? `, ${run.esetCalls.token} token` : ''}`,
      String(run.pages),
      String(run.jiraCalls),
      `${run.created} / ${run.told.closed + run.told.reopened + run.told.commented + run.told.failed}`,
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => row[c]?.length ?? 0))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [
    line(rows[0] as string[]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ];
}
