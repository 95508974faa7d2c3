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
});
