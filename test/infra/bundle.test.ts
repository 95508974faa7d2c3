import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLambda } from '../../infra/bundle';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { signedCloseEvent, sqsEvent, TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { type LocalQueues, queueDepth, setUpQueues } from '../../infra/local/queues';
import { type LocalStateStore, startLocalStateStore } from '../../infra/local/state-store';
import { functionsOf } from '../../scripts/bench/deployed';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every file under `dir` (relative path -> bytes). */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), await readFile(path));
  }
  return out;
}

// The artifacts `cdk deploy` uploads, built by the same function, run against the sandbox and a
// real SQS server: the code-split chunks resolve, and the lazily loaded SQS client works.
describe('the deployed bundles', () => {
  let dir: string;
  let sandbox: EsetSandbox;
  let queues: LocalQueues;
  let state: LocalStateStore;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-bundle-'));
    // Two levels under `dir`, as a synthesized asset is under `dir/synth` (source map paths are relative).
    bundleLambda(join(ROOT, 'functions/receive.ts'), join(dir, 'bundles/receive'));
    bundleLambda(join(ROOT, 'functions/retry.ts'), join(dir, 'bundles/retry'));
    sandbox = await createEsetSandbox({ username: 'u', password: 'p' });
    queues = await setUpQueues({ prefix: 'bundle' });
    state = await startLocalStateStore();
    for (const [k, v] of Object.entries({
      ESET_API_URL: sandbox.url,
      ESET_AUTH_URL: sandbox.url,
      ESET_USERNAME: 'u',
      ESET_PASSWORD: 'p',
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      RETRY_QUEUE_URL: queues.retryQueueUrl,
      DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      STATE_TABLE: state.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      RETRY_BASE_SECONDS: '0',
      RETRY_MAX_DELAY_SECONDS: '0',
    })) {
      // Set for the whole file (vi.stubEnv is undone before each test): the entries read it on import.
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await sandbox?.close();
    await queues?.close();
    await state?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('splits what only some requests need into chunks', async () => {
    expect(await readdir(join(dir, 'bundles/receive'))).toEqual(
      expect.arrayContaining(['index.mjs', 'chunks']),
    );
    expect((await readdir(join(dir, 'bundles/receive/chunks'))).length).toBeGreaterThan(3);
  });

  // What the benchmarks measure (scripts/bench/deployed.ts, `bundle-lambda`) is what synth deploys.
  it('bundleLambda writes byte for byte the assets that synth writes', async () => {
    // Arrange: the app as `cdk synth` runs infra/app.ts (bundling on, paths and assets in the metadata).
    const [{ App }, { EsetCloseBridgeStack }] = await Promise.all([
      import('aws-cdk-lib'),
      import('../../infra/stack'),
    ]);
    const outdir = join(dir, 'synth');
    const app = new App({
      outdir,
      context: { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true },
    });
    new EsetCloseBridgeStack(app, 'EsetCloseBridge');

    // Act
    app.synth();

    // Assess
    const template = JSON.parse(await readFile(join(outdir, 'EsetCloseBridge.template.json'), 'utf8'));
    const synthesized = functionsOf(template, 'EsetCloseBridge', (name, assetPath) => {
      expect(assetPath, name).toMatch(/^asset\./);
      return join(outdir, assetPath as string);
    });
    for (const name of ['receive', 'retry'] as const) {
      const deployed = await tree(synthesized[name].codeDir);
      const built = await tree(join(dir, 'bundles', name));
      expect([...built.keys()].sort(), name).toEqual([...deployed.keys()].sort());
      for (const [path, bytes] of built)
        expect(bytes.equals(deployed.get(path) as Buffer), `${name}/${path}`).toBe(true);
    }
  }, 120_000);

  it('receive: closes an incident, and queues one ESET refuses for now', async () => {
    const { handler } = (await import(pathToFileURL(join(dir, 'bundles/receive/index.mjs')).href)) as {
      handler: (e: APIGatewayProxyEventV2) => Promise<{ statusCode: number; body: string }>;
    };
    sandbox.addIncident('11111111-2222-4333-8444-555555555555');
    sandbox.addIncident('11111111-2222-4333-8444-666666666666');
    sandbox.script('11111111-2222-4333-8444-666666666666', [{ kind: 'status', status: 503 }]);
    expect((await handler(signedCloseEvent('11111111-2222-4333-8444-555555555555'))).statusCode).toBe(200);
    expect((await handler(signedCloseEvent('11111111-2222-4333-8444-666666666666'))).statusCode).toBe(202);
    expect((await queueDepth(queues.sqs, queues.retryQueueUrl)).visible).toBe(1);
  });

  it('retry: closes the incident the receive Lambda queued, and one queued before the upgrade (v1)', async () => {
    const { handler } = (await import(pathToFileURL(join(dir, 'bundles/retry/index.mjs')).href)) as {
      handler: (e: SQSEvent) => Promise<SQSBatchResponse>;
    };
    const received = await queues.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.retryQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    const queued = received.Messages?.[0]?.Body ?? '';
    expect(JSON.parse(queued)).toMatchObject({ v: 2, incidentUuid: '11111111-2222-4333-8444-666666666666' });
    const message = {
      v: 1,
      request: {
        incidentUuid: '11111111-2222-4333-8444-777777777777',
        closureReason: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
        comment: 'from the bundle',
      },
      phase: 'close',
      attempt: 2,
      firstSeen: new Date().toISOString(),
      correlationId: 'bundle-test',
    };
    sandbox.addIncident(message.request.incidentUuid);
    expect(await handler(sqsEvent([queued, JSON.stringify(message), 'not a retry message']))).toEqual({
      batchItemFailures: [],
    });
    for (const id of [message.request.incidentUuid, '11111111-2222-4333-8444-666666666666']) {
      expect(sandbox.state().incidents[id]).toMatchObject({
        status: 'INCIDENT_STATUS_CLOSED',
        closesApplied: 1,
      });
    }
    expect((await queueDepth(queues.sqs, queues.deadLetterQueueUrl)).visible).toBe(1);
  });
});
