import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { secretKey } from '../../functions/auth/standard-webhooks';
import {
  functionUrlEvent,
  signedCloseEvent,
  signedHeaders,
  TEST_WEBHOOK_SECRET,
} from '../../infra/local/events';
import { ESET_PASSWORD, type Harness, startHarness } from '../helpers/harness';
import { captureOutput } from '../helpers/logs';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
});

describe('secrets never leave the bridge', () => {
  it('puts no password, webhook secret or token into any log line or answer during a whole scenario', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const tokens = new Set<string>();
    const recordingFetch: typeof fetch = async (input, init) => {
      const auth = new Headers(init?.headers).get('authorization');
      if (auth) tokens.add(auth.replace(/^Bearer /, ''));
      const res = await fetch(input, init);
      if (String(input).endsWith('/oauth/token')) {
        const json = (await res.clone().json()) as { access_token?: string; refresh_token?: string };
        if (json.access_token) tokens.add(json.access_token);
        if (json.refresh_token) tokens.add(json.refresh_token);
      }
      return res;
    };
    const output = captureOutput();
    const answers: string[] = [];
    try {
      h = await startHarness({
        overrides: {
          fetch: recordingFetch,
          observability: {
            logger: new Logger({ serviceName: 'eset-close-bridge', logLevel: 'DEBUG' }),
            metrics: new Metrics({ namespace: 'EsetCloseBridge', serviceName: 'eset-close-bridge' }),
          },
        },
      });
      const harness = h;
      const ids = Array.from({ length: 5 }, () => harness.newIncident());
      harness.sandbox.script(ids[1] as string, [{ kind: 'status', status: 503 }]);
      harness.sandbox.script(ids[2] as string, [{ kind: 'pending' }]);
      harness.sandbox.script(ids[3] as string, [
        { kind: 'status', status: 503 },
        { kind: 'status', status: 403 },
      ]);
      const secretComment = 'Internal note: host FIN-LAPTOP-7 reimaged';
      for (const id of ids)
        answers.push((await harness.receive(signedCloseEvent(id, { comment: secretComment }))).body);
      harness.sandbox.expireAccessTokens();
      answers.push((await harness.receive(signedCloseEvent(harness.newIncident()))).body);
      const body = JSON.stringify({ incidentUuid: ids[0], comment: 'x' });
      answers.push(
        (
          await harness.receive(
            functionUrlEvent({ body, headers: signedHeaders(body, { secret: 'whsec_d3Jvbmc=' }) }),
          )
        ).body,
      );
      await harness.drain();
      expect(harness.sandbox.state().tokenRequests.refresh).toBe(1);

      const lines = output.lines();
      // The scenario did log: ESET calls with request ids, outcomes, the dead-letter.
      expect(lines.some((l) => l.includes('"esetRequestId"'))).toBe(true);
      expect(lines.some((l) => l.includes('"message":"dead-lettered"'))).toBe(true);
      expect(lines.some((l) => l.includes('"_aws"'))).toBe(true); // EMF metrics

      const forbidden = [
        ESET_PASSWORD,
        TEST_WEBHOOK_SECRET,
        TEST_WEBHOOK_SECRET.slice('whsec_'.length),
        secretKey(TEST_WEBHOOK_SECRET).toString('hex'),
        secretComment,
        ...tokens,
      ];
      expect(tokens.size).toBeGreaterThanOrEqual(3);
      for (const text of [...lines, ...answers]) {
        for (const secret of forbidden) expect(text).not.toContain(secret);
      }
    } finally {
      output.restore();
    }
  });
});
