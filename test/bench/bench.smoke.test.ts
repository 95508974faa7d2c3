import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NODE_OPTIONS, lambdaNodeOptions } from '../../infra/bundle';
import { type BenchFiles, buildBenchFiles, initFiles } from '../../scripts/bench/build';
import { measureColdInit, probeOnce } from '../../scripts/bench/cold-init';
import { type DeployedApp, synthWithBundleLambda } from '../../scripts/bench/deployed';
import { measureDrain } from '../../scripts/bench/drain';
import { profileInit, traceInit } from '../../scripts/bench/init-trace';
import { measureTokens } from '../../scripts/bench/tokens';
import { measureWarm } from '../../scripts/bench/warm';

/**
 * A tiny run of every benchmark, so `npm run bench` keeps working as the code changes. It checks
 * that each measurement runs and measures what it says, not the figures (they depend on the
 * machine). The functions come from `bundleLambda` and the stack's template: the files `cdk synth`
 * writes (test/infra/bundle.test.ts), without the CLI's start-up time.
 */
let files: BenchFiles;
let app: DeployedApp;
beforeAll(async () => {
  files = await buildBenchFiles();
  app = await synthWithBundleLambda(files.dir);
}, 90_000);
afterAll(async () => {
  await files?.remove();
});

describe('the benchmarks', () => {
  it('take each function with the environment the stack gives it', () => {
    // Assess
    for (const fn of [app.receive, app.retry]) {
      expect(fn.handler).toBe('index.handler');
      expect(fn.runtime).toMatch(/^nodejs\d+\.x$/);
      expect(fn.env).toMatchObject({
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        _HANDLER: 'index.handler',
        LAMBDA_TASK_ROOT: fn.codeDir,
        AWS_LAMBDA_LOG_FORMAT: 'JSON',
      });
      expect(fn.env.STATE_TABLE).toMatch(/StateTable/);
      expect(fn.env.ESET_CREDENTIALS_SECRET_ARN).toMatch(/^arn:aws:secretsmanager:/);
    }
    expect(app.receive.env.WEBHOOK_SECRET_ARN).toMatch(/^arn:aws:secretsmanager:/);
    expect(app.retry.env.DEAD_LETTER_QUEUE_URL).toMatch(/^https:\/\/sqs\./);
  });

  it('imports each handler in fresh processes as deployed, beside an empty handler', async () => {
    // Act
    const cold = measureColdInit(files, app, 1);
    const sizes = await initFiles(app.receive.codeDir);

    // Assess: the deployed NODE_OPTIONS were in force (source maps off), the handlers resolved.
    expect(cold.nodeOptions).toBe(LAMBDA_NODE_OPTIONS);
    expect(cold.sourceMapsEnabled).toBe(false);
    for (const ms of [cold.empty.ms, cold.receive.ms, cold.retry.ms, cold.receiveMs, cold.retryMs]) {
      expect(Number.isFinite(ms)).toBe(true);
    }
    expect(cold.builtins.receive).toContain('crypto');
    expect(sizes.files[0]).toMatch(/index\.mjs$/);
    expect(sizes.bytes).toBeGreaterThan(1000);
  });

  it('puts another build or other NODE_OPTIONS into the same rounds', () => {
    // Act
    const cold = measureColdInit(files, app, 1, {
      before: { label: 'with source maps', app, nodeOptions: lambdaNodeOptions(true) },
    });

    // Assess
    expect(cold.before?.label).toBe('with source maps');
    for (const ms of [cold.before?.receiveMs, cold.before?.retryMs]) expect(Number.isFinite(ms)).toBe(true);
    expect(cold.sourceMapsEnabled).toBe(false);
  });

  it('the probe fails loudly when the handler is not there', () => {
    // Act / Assess
    expect(() => probeOnce(files, { ...app.receive, handler: 'index.missing' })).toThrow(/not a function/);
  });

  it('traces what loads at init, module by module', async () => {
    // Act
    const trace = await traceInit(files, app, 1);

    // Assess
    for (const t of [trace.receive, trace.retry]) {
      expect(t.modules.map((m) => m.module)).toEqual(
        expect.arrayContaining(['zod', 'functions/config/config.ts']),
      );
      expect(t.bodiesMs).toBeGreaterThan(0);
      expect(t.bytes.find((b) => b.module === '@aws-lambda-powertools/logger')).toBeDefined();
      expect(t.builtins).toContain('crypto');
    }
    expect(trace.receive.modules.map((m) => m.module)).toContain('functions/receive.ts');
    // The AWS SDK is loaded on first use, never at init.
    expect(trace.receive.bytes.filter((b) => b.module.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('sorts a CPU profile of each cold init into compiling, source maps, built-ins and module code', async () => {
    // Act
    const profile = await profileInit(files, app, 1);

    // Assess
    for (const p of [profile.receive, profile.retry]) {
      const parts = p.parts.map((x) => x.part);
      // Source maps are off as deployed: their part shows only when the setting turns them on.
      expect(parts).toEqual(expect.arrayContaining(['compiling the files']));
      expect(parts.some((x) => x.startsWith('module code: '))).toBe(true);
      expect(p.parts.reduce((a, x) => a + x.ms, 0)).toBeGreaterThan(0);
    }
  });

  it('times warm closes of the deployed receive Lambda, each a new incident, DynamoDB round trips counted', async () => {
    // Act
    const warm = await measureWarm(files, app.receive, { rounds: 1, warmupRounds: 1 });

    // Assess
    expect(warm.statuses).toEqual({ 200: 18 });
    expect(warm.esetClosesPerInvocation).toBe(1);
    expect(warm.tokenRequests).toBe(1);
    // Two writes of the record and the budget's slot. A slot reserved beside the first write is
    // dropped when that write takes over 50 ms (a loaded machine), and the call takes another:
    // so per close exactly two record writes and, on average, one or two budget updates; three
    // round trips for a close whose reserved slot was used.
    expect(warm.dynamoOpsPerClose.PutItem).toBe(2);
    expect(warm.dynamoOpsPerClose.UpdateItem).toBeGreaterThanOrEqual(1);
    expect(warm.dynamoOpsPerClose.UpdateItem).toBeLessThanOrEqual(2);
    expect(warm.dynamoTripsPerClose).toBeGreaterThanOrEqual(3);
    expect(warm.dynamoTripsPerClose).toBeLessThanOrEqual(4);
    expect(warm.dynamoMedianMs).toBeGreaterThan(0);
    expect(warm.dynamoMedianMs).toBeLessThan(warm.handlerMedianMs);
  });

  it('counts token requests while closes run at once on a cold client', async () => {
    // Act
    const tokens = await measureTokens(20);

    // Assess
    expect(tokens.tokenRequests).toBe(1);
    expect(tokens.statuses[200]).toBeGreaterThan(0);
  });

  it('drains queued closes through the deployed retry Lambda, each closed exactly once', async () => {
    // Act
    const drain = await measureDrain(files, app.retry, { closes: 20, rate: 10, pollers: 2 });

    // Assess
    expect(drain.closedOnce).toBe(20);
    expect(drain.closedTwice).toBe(0);
    expect(drain.deadLettered).toBe(0);
    // The worker's own high-water mark: at least what it sampled, not the benchmark's.
    expect(drain.peakRssMb).toBeGreaterThanOrEqual(drain.idleRssMb);
    expect(drain.peakRssMb).toBeGreaterThanOrEqual(drain.peakRssSampledMb - 1);
  });
});
