import { describe, expect, it } from 'vitest';
import { explain } from '../../scripts/explain';
import { fixtureText } from './sender-events';

const CONFIG = JSON.stringify({
  routes: { '/jira': { incident: [{ field: 'issue.fields.customfield_10050' }] }, '/zendesk': {} },
});

/** Runs the dry run over in-memory files; returns its exit code and what it printed. */
function run(
  argv: string[],
  env: Record<string, string> = { SENDERS_CONFIG: CONFIG },
  files: Record<string, string> = {},
) {
  const lines: string[] = [];
  const code = explain(argv, {
    env,
    readFile: (path) => {
      const text =
        files[path] ?? (path.startsWith('fixture:') ? fixtureText(path.slice('fixture:'.length)) : undefined);
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    out: (line) => lines.push(line),
  });
  return { code, output: lines.join('\n') };
}

describe('npm run explain (a dry run of one route)', () => {
  it('prints what the adapter extracted from a payload', () => {
    const { code, output } = run(['--route', '/jira', 'fixture:jira-issue-updated']);
    expect(code).toBe(0);
    expect(output).toContain('route /jira: adapter jira, authentication hub-signature (not checked here)');
    expect(output).toContain('event: close');
    expect(output).toMatch(/incidentUuid\s+123e4567-e89b-12d3-a456-426614174000/);
    expect(output).toMatch(/closureReason\s+INCIDENT_RESOLVE_REASON_FALSE_POSITIVE/);
    expect(output).toMatch(/comment\s+Jira SEC-4711 resolved \(False Positive\)\./);
    expect(output).toMatch(/ticketId\s+SEC-4711/);
    expect(output).toMatch(/occurredAt\s+2024-04-17T17:18:10.123Z/);
    expect(output).toMatch(/actor\s+5b10a2844c20165700ede21g/);
  });

  it('says why a payload is ignored', () => {
    const { code, output } = run(['--route', '/zendesk', 'fixture:zendesk-event-tags-changed']);
    expect(code).toBe(0);
    expect(output).toMatch(/ignored \(200\): not a status change or comment/);
  });

  it('says why a payload is refused, field by field', () => {
    const body = fixtureText('jira-issue-updated').replace('"123e4567-e89b-12d3-a456-426614174000"', '"N/A"');
    const { code, output } = run(['--route', '/jira', 'p.json'], undefined, { 'p.json': body });
    expect(code).toBe(1);
    expect(output).toContain('refused (400): The ESET incident id is not a UUID');
    expect(output).toContain('issue.fields.customfield_10050: must be an ESET incident UUID');
  });

  it('takes the configuration from --config instead of the environment', () => {
    const { code, output } = run(
      ['--route', '/jira', 'fixture:jira-issue-updated', '--config', 'c.json'],
      {},
      { 'c.json': CONFIG },
    );
    expect(code).toBe(0);
    expect(output).toContain('event: close');
  });

  it.each([
    ['no route', ['payload.json'], /usage: npm run explain/],
    [
      'an unknown route',
      ['--route', '/remedy', 'fixture:jira-issue-updated'],
      /no route \/remedy \(routes: \/, \/jira, \/zendesk\)/,
    ],
    [
      'a configuration problem, with its path',
      ['--route', '/jira', 'x', '--config', 'bad.json'],
      /configuration: SENDERS_CONFIG routes\.\/jira\.comments: must be public, all, none/,
    ],
  ])('explains %s', (_name, argv, message) => {
    const { code, output } = run(
      argv,
      { SENDERS_CONFIG: CONFIG },
      { 'bad.json': '{"routes":{"/jira":{"comments":"few"}}}' },
    );
    expect(code).toBe(2);
    expect(output).toMatch(message);
  });
});
