import { describe, expect, it } from 'vitest';
import { workerTiming } from '../../functions/bridge';
import { loadConfig } from '../../functions/config/config';
import { ConfigError } from '../../functions/errors/errors';

const base = { ESET_REGION: 'de', ESET_USERNAME: 'api-user', ESET_PASSWORD: 'pw' };

describe('loadConfig', () => {
  it('derives both ESET URLs from the region', () => {
    const c = loadConfig(base);
    expect(c.esetApiUrl).toBe('https://de.incident-management.eset.systems');
    expect(c.esetAuthUrl).toBe('https://de.business-account.iam.eset.systems');
  });

  it('lets explicit URLs override the region', () => {
    const c = loadConfig({
      ...base,
      ESET_API_URL: 'http://127.0.0.1:4010/',
      ESET_AUTH_URL: 'http://127.0.0.1:4011',
    });
    expect(c.esetApiUrl).toBe('http://127.0.0.1:4010');
    expect(c.esetAuthUrl).toBe('http://127.0.0.1:4011');
  });

  it('applies the documented defaults', () => {
    expect(loadConfig(base)).toMatchObject({
      esetTimeoutMs: 8000,
      retryEsetTimeoutMs: 55_000,
      esetMaxRps: 5,
      retryMaxAgeSeconds: 86_400,
      esetSettleSeconds: 190,
      tenant: 'default',
      retryQueueVisibilitySeconds: 900,
      retryQueueMaxReceives: 5,
    });
  });

  it('gives the retry path more than ESET takes to answer 202 (over 50 s per call)', () => {
    const config = loadConfig(base);
    expect(config.retryEsetTimeoutMs).toBeGreaterThan(50_000);
    const timing = workerTiming(config);
    // Two full calls (a read and a change) per message, and a lease that outlives the session.
    expect(timing.retry.sessionMs).toBeGreaterThanOrEqual(2 * config.retryEsetTimeoutMs);
    expect(timing.retry.leaseMs).toBeGreaterThan(timing.retry.sessionMs);
    expect(timing.receive.budgetMs).toBeLessThanOrEqual(8000);
  });

  it('names STATE_TABLE when a Lambda needs it and it is missing or malformed', () => {
    expect(() => loadConfig(base, { stateTable: true })).toThrow(/STATE_TABLE is required/);
    expect(() => loadConfig({ ...base, STATE_TABLE: 'a b' })).toThrow(
      /STATE_TABLE must be a DynamoDB table name/,
    );
    expect(loadConfig({ ...base, STATE_TABLE: 'bridge-state' }).stateTable).toEqual({
      table: 'bridge-state',
    });
  });

  it('names every missing or malformed variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ ESET_TIMEOUT_MS: 'soon', ESET_MAX_RPS: '50' }, { webhookSecret: true, retryQueue: true });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      'ESET_TIMEOUT_MS',
      'ESET_MAX_RPS',
      'ESET_REGION or ESET_API_URL',
      'ESET_USERNAME',
      'WEBHOOK_SECRET',
      'RETRY_QUEUE_URL',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('never puts a secret value into its error', () => {
    expect(() => loadConfig({ ...base, WEBHOOK_SECRET: 'not-a-whsec-value' })).toThrow(
      /WEBHOOK_SECRET must look like/,
    );
    try {
      loadConfig({ ...base, WEBHOOK_SECRET: 'not-a-whsec-value' });
    } catch (err) {
      expect((err as Error).message).not.toContain('not-a-whsec-value');
    }
  });

  it('takes the deployed secret ARNs when no local values are set', () => {
    const c = loadConfig(
      { ESET_REGION: 'eu', ESET_CREDENTIALS_SECRET_ARN: 'arn:creds', WEBHOOK_SECRET_ARN: 'arn:hook' },
      { webhookSecret: true },
    );
    expect(c.esetCredentials).toEqual({ kind: 'secretsManager', arn: 'arn:creds' });
    expect(c.webhookSecret).toEqual({ kind: 'secretsManager', arn: 'arn:hook' });
  });

  describe('ESET tenants', () => {
    const tenants = JSON.stringify({
      acme: { region: 'de', credentialsSecretArn: 'arn:aws:secretsmanager:eu-central-1:1:secret:acme' },
      globex: {
        apiUrl: 'http://127.0.0.1:9001',
        authUrl: 'http://127.0.0.1:9001',
        username: 'g',
        password: 'p',
        rateLimit: 5,
      },
    });

    it('adds the tenants of ESET_TENANTS to the default one, each with its URLs, credentials and limit', () => {
      const config = loadConfig({ ...base, ESET_TENANTS: tenants });
      expect(Object.keys(config.tenants).sort()).toEqual(['acme', 'default', 'globex']);
      expect(config.tenants.acme).toMatchObject({
        apiUrl: 'https://de.incident-management.eset.systems',
        credentials: { kind: 'secretsManager' },
        rateLimit: 10,
      });
      expect(config.tenants.globex).toMatchObject({ apiUrl: 'http://127.0.0.1:9001', rateLimit: 5 });
    });

    it('serves with ESET_TENANTS alone when ESET_TENANT names one of them', () => {
      const config = loadConfig({ ESET_TENANTS: tenants, ESET_TENANT: 'acme' });
      expect(config.tenant).toBe('acme');
      expect(config.esetApiUrl).toBe('https://de.incident-management.eset.systems');
    });

    it('names a route whose tenant is unknown, at cold start', () => {
      const senders = JSON.stringify({ routes: { '/jira': { tenant: 'initech' } } });
      expect(() => loadConfig({ ...base, ESET_TENANTS: tenants, SENDERS_CONFIG: senders })).toThrow(
        /SENDERS_CONFIG routes\.\/jira\.tenant: unknown tenant initech \(known: default, acme, globex\)/,
      );
    });

    it('names a tenant without credentials or URLs, and a default tenant that does not exist', () => {
      let message = '';
      try {
        loadConfig({
          ESET_TENANTS: JSON.stringify({
            acme: { region: 'de', username: 'u', password: 'p' },
            initech: { region: 'de' },
            umbrella: {},
          }),
          ESET_TENANT: 'nobody',
        });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(
        'ESET_TENANTS.initech.credentialsSecretArn (or username and password) are required',
      );
      expect(message).toContain('ESET_TENANTS.umbrella.region or ESET_TENANTS.umbrella.apiUrl is required');
      expect(message).toContain('ESET_TENANT names no tenant (nobody; known: acme)');
    });

    it('refuses malformed ESET_TENANTS without quoting it', () => {
      expect(() => loadConfig({ ...base, ESET_TENANTS: '{"acme": {"password": "hunter2-secret"' })).toThrow(
        /^Invalid configuration: ESET_TENANTS must be JSON$/,
      );
      expect(() =>
        loadConfig({
          ...base,
          ESET_TENANTS: '{"acme":{"rateLimit":50,"region":"eu","username":"u","password":"p"}}',
        }),
      ).toThrow(/ESET_TENANTS acme\.rateLimit: must be 1 to 10/);
    });
  });
});
