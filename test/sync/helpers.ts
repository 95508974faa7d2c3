import { randomUUID } from 'node:crypto';
import { adfToText } from '../../functions/jira/adf';
import { JiraClient } from '../../functions/jira/client';
import type { EsetSandbox, SeverityLevel } from '../../infra/local/eset-sandbox/sandbox';
import type { JiraStandin, StandinIssueState } from '../../infra/local/jira-standin/server';

/** Waits (bounded, polling) until `check` holds; throws with `what` when it never does. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, maxMs = 10_000) {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A new open incident in the sandbox. */
export function newIncident(
  sandbox: EsetSandbox,
  opts: { severity?: 'LOW' | 'MEDIUM' | 'HIGH'; name?: string; status?: 'closed' } = {},
): string {
  const uuid = randomUUID();
  sandbox.addIncident(uuid, opts.status === 'closed' ? 'INCIDENT_STATUS_CLOSED' : 'INCIDENT_STATUS_OPEN', {
    severity: `INCIDENT_SEVERITY_LEVEL_${opts.severity ?? 'HIGH'}` as SeverityLevel,
    displayName: opts.name ?? `Suspicious process ${uuid.slice(0, 8)}`,
  });
  return uuid;
}

/** The issues carrying the incident's label. */
export function issuesOf(jira: JiraStandin, uuid: string): (StandinIssueState & { key: string })[] {
  return Object.entries(jira.state().issues)
    .filter(([, issue]) => issue.labels.includes(`eset-incident-${uuid}`))
    .map(([key, issue]) => ({ key, ...issue }));
}

/** The incident's one issue (fails the test when there is not exactly one). */
export function issueOf(jira: JiraStandin, uuid: string): StandinIssueState & { key: string } {
  const issues = issuesOf(jira, uuid);
  if (issues.length !== 1) throw new Error(`expected one issue for ${uuid}, found ${issues.length}`);
  return issues[0] as StandinIssueState & { key: string };
}

/** The issue's description as text, read through the REST API as Jira's users see it. */
export async function descriptionOf(jira: JiraStandin, key: string): Promise<string> {
  const client = new JiraClient({ baseUrl: jira.url, ...jira.apiUser });
  const issue = await client.getIssue(key, ['description']);
  return adfToText((issue.fields as Record<string, unknown>).description);
}

/** Calls that change an incident (close, reopen, comment) the sandbox received for it. */
export function changingCalls(sandbox: EsetSandbox, uuid: string) {
  return sandbox
    .state()
    .calls.filter(
      (c) => c.path.includes(uuid) && (c.call === 'close' || c.call === 'reopen' || c.call === 'comment'),
    );
}

/** Transitions and comments the bridge's own account made in Jira on the issue. */
export function bridgeWrites(jira: JiraStandin, key: string) {
  const id = jira.state().issues[key]?.id ?? key;
  return jira
    .state()
    .calls.filter(
      (c) =>
        c.method === 'POST' &&
        (c.path.includes(`/issue/${key}/`) || c.path.includes(`/issue/${id}/`)) &&
        c.status < 300,
    );
}
