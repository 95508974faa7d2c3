import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/config';
import { ConfigError } from '../../functions/errors/errors';

const base = { ESET_REGION: 'de', ESET_USERNAME: 'api-user', ESET_PASSWORD: 'pw', STATE_TABLE: 'state' };
const jira = {
  SYNC_TARGET: 'jira',
  JIRA_BASE_URL: 'https://example.atlassian.net/',
  JIRA_EMAIL: 'bridge@example.com',
  JIRA_API_TOKEN: 'token',
  JIRA_PROJECT_KEY: 'SEC',
};

function problems(env: Record<string, string>, sync = true): string[] {
  try {
    loadConfig(env, { sync });
  } catch (err) {
    if (err instanceof ConfigError) return err.details as string[];
    throw err;
  }
  return [];
}

describe('loadConfig: the ESET-to-ticket sync', () => {
  it('leaves the sync off when SYNC_TARGET is unset', () => {
    expect(loadConfig(base).sync).toBeUndefined();
  });

  it('reads the Jira target with the documented defaults', () => {
    expect(loadConfig({ ...base, ...jira }, { sync: true }).sync).toEqual({
      target: 'jira',
      intervalSeconds: 60,
      minSeverity: 'MEDIUM',
      jira: {
        baseUrl: 'https://example.atlassian.net',
        credentials: { kind: 'value', value: { email: 'bridge@example.com', apiToken: 'token' } },
        projectKey: 'SEC',
        issueType: 'Task',
      },
    });
  });

  it('takes the Jira credentials from Secrets Manager and every other setting', () => {
    const { JIRA_EMAIL: _e, JIRA_API_TOKEN: _t, ...rest } = jira;
    const config = loadConfig(
      {
        ...base,
        ...rest,
        JIRA_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:1:secret:jira',
        JIRA_ISSUE_TYPE: 'Bug',
        JIRA_BRIDGE_ACCOUNT_ID: '712020:abc',
        SYNC_INTERVAL_SECONDS: '300',
        SYNC_MIN_SEVERITY: 'high',
        SYNC_INCIDENT_URL: 'https://console.example.com/incidents/{uuid}',
      },
      { sync: true },
    );
    expect(config.sync).toMatchObject({
      intervalSeconds: 300,
      minSeverity: 'HIGH',
      incidentUrl: 'https://console.example.com/incidents/{uuid}',
      jira: {
        credentials: { kind: 'secretsManager', arn: 'arn:aws:secretsmanager:eu-central-1:1:secret:jira' },
        issueType: 'Bug',
        bridgeAccountId: '712020:abc',
      },
    });
    expect(config.jiraBridgeAccountId).toBe('712020:abc');
  });

  it('reads the webhook target', () => {
    const config = loadConfig(
      {
        ...base,
        SYNC_TARGET: 'webhook',
        SYNC_WEBHOOK_URL: 'https://soar.example.com/eset',
        SYNC_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:1:secret:hook',
      },
      { sync: true },
    );
    expect(config.sync?.webhook).toEqual({
      url: 'https://soar.example.com/eset',
      secret: { kind: 'secretsManager', arn: 'arn:aws:secretsmanager:eu-central-1:1:secret:hook' },
    });
  });

  it("requires the target's settings only where the sync runs", () => {
    expect(problems({ ...base, SYNC_TARGET: 'jira' })).toEqual([
      'JIRA_BASE_URL is required with SYNC_TARGET=jira',
      'JIRA_PROJECT_KEY is required with SYNC_TARGET=jira',
      'JIRA_EMAIL and JIRA_API_TOKEN, or JIRA_CREDENTIALS_SECRET_ARN, are required with SYNC_TARGET=jira',
    ]);
    expect(problems({ ...base, SYNC_TARGET: 'webhook' })).toEqual([
      'SYNC_WEBHOOK_URL is required with SYNC_TARGET=webhook',
      'SYNC_WEBHOOK_SECRET or SYNC_WEBHOOK_SECRET_ARN is required with SYNC_TARGET=webhook',
    ]);
    expect(problems(base)).toEqual(['SYNC_TARGET is required (jira or webhook)']);
    // The receive and retry Lambdas only need to know the sync is on.
    expect(loadConfig({ ...base, SYNC_TARGET: 'jira' }).sync).toMatchObject({ target: 'jira' });
  });

  it('names every malformed sync variable at once', () => {
    const found = problems({
      ...base,
      SYNC_TARGET: 'servicenow',
      SYNC_INTERVAL_SECONDS: '5',
      SYNC_MIN_SEVERITY: 'critical',
      SYNC_INCIDENT_URL: 'https://console.example.com/incidents',
      SYNC_WEBHOOK_SECRET: 'not-whsec',
      JIRA_PROJECT_KEY: 'sec',
    }).join('\n');
    for (const name of [
      'SYNC_TARGET',
      'SYNC_INTERVAL_SECONDS',
      'SYNC_MIN_SEVERITY',
      'SYNC_INCIDENT_URL',
      'SYNC_WEBHOOK_SECRET',
      'JIRA_PROJECT_KEY',
    ]) {
      expect(found).toContain(name);
    }
    expect(found).not.toContain('not-whsec');
  });

  it('refuses a webhook URL that is plain http anywhere but loopback', () => {
    const env = {
      ...base,
      SYNC_TARGET: 'webhook',
      SYNC_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    };
    expect(problems({ ...env, SYNC_WEBHOOK_URL: 'http://soar.example.com/eset' })).toEqual([
      'SYNC_WEBHOOK_URL must be https (http only on loopback)',
    ]);
    expect(problems({ ...env, SYNC_WEBHOOK_URL: 'http://127.0.0.1:9000/eset' })).toEqual([]);
  });

  it("makes every Jira route ignore the bridge's own account (JIRA_BRIDGE_ACCOUNT_ID)", () => {
    const config = loadConfig({
      ...base,
      JIRA_BRIDGE_ACCOUNT_ID: '712020:Bridge',
      SENDERS_CONFIG: JSON.stringify({ routes: { '/jira': { ignoreActors: ['svc-old'] }, '/zendesk': {} } }),
    });
    const adapt = (actor: string) =>
      config.routes.find('/jira')?.adapter.adapt({
        webhookEvent: 'jira:issue_updated',
        user: { accountId: actor },
        issue: {
          key: 'SEC-1',
          fields: {
            labels: ['eset-incident-123e4567-e89b-12d3-a456-426614174000'],
            status: { name: 'Done', statusCategory: { key: 'done' } },
            resolution: { name: 'Done' },
          },
        },
        changelog: { id: '1', items: [{ field: 'resolution', to: '10000', toString: 'Done' }] },
      });
    expect(adapt('712020:bridge')).toMatchObject({ kind: 'ignore' });
    expect(adapt('svc-old')).toMatchObject({ kind: 'ignore' });
    expect(adapt('5b10a2844c20165700ede21g')).toMatchObject({ kind: 'event', event: { action: 'close' } });
  });
});
