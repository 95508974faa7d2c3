import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NODE_OPTIONS } from '../../infra/bundle';
import {
  ENTRIES,
  functionUrlEvent,
  jsonBody,
  type LibrariesResult,
  type LibraryBundles,
  librariesTable,
  measureLibraries,
  tamper,
  VARIANTS,
  verifiers,
} from '../../scripts/bench/libraries';

/**
 * A tiny run of `npm run bench -- --libraries`, so it keeps working. It checks what the
 * measurement is made of (both verifiers agree, each bundle exists and holds its library, each
 * handler answered its event), never a time: the figures depend on the machine.
 */
let dir: string;
let result: LibrariesResult & { built: LibraryBundles };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libraries-smoke-'));
  result = await measureLibraries({ rounds: 3, iterations: 30, dir });
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the libraries benchmark', () => {
  it('has both verifiers accept the same valid signature and reject a changed one', () => {
    // Arrange
    const v = verifiers();
    const body = jsonBody(200);
    const { headers } = functionUrlEvent(body);
    const changed = { ...headers, 'webhook-signature': tamper(headers['webhook-signature']) };

    // Act + Assess
    expect(Buffer.byteLength(body)).toBe(200);
    expect(changed['webhook-signature']).not.toBe(headers['webhook-signature']);
    expect([v.ours(headers, body), v.standardwebhooks(headers, body)]).toEqual([true, true]);
    expect([v.ours(changed, body), v.standardwebhooks(changed, body)]).toEqual([false, false]);
    expect(result.agreement).toEqual({
      valid: { ours: true, standardwebhooks: true },
      tamperedSignature: { ours: false, standardwebhooks: false },
      tamperedBody: { ours: false, standardwebhooks: false },
    });
  });

  it('bundles each handler into a non-empty file holding what it measures', async () => {
    // Assess
    for (const entry of ENTRIES) {
      const b = result.built.bundles[entry];
      const index = join(b.codeDir, 'index.mjs');
      expect(b.files).toEqual([index]);
      expect((await stat(index)).size).toBe(b.bytes);
      expect(b.bytes).toBeGreaterThan(0);
      expect(result.sizes[entry].bytes).toBe(b.bytes);
    }
    const code = (entry: (typeof ENTRIES)[number]) =>
      readFile(join(result.built.bundles[entry].codeDir, 'index.mjs'), 'utf8');
    expect(await code('eventHandler')).toContain(
      'Received an event that is not compatible with this resolver',
    );
    expect(await code('standardwebhooks')).toContain('No matching signature found');
    expect(await code('oursVerify')).toContain('webhook-signature does not match');
    expect(result.sizes.eventHandler.bytes).toBeGreaterThan(result.sizes.mapLookup.bytes);
    expect(result.sizes.standardwebhooks.bytes).toBeGreaterThan(result.sizes.oursVerify.bytes);
  });

  it('imports each handler in fresh processes, with and without source maps, and has each answer the signed event', () => {
    // Assess: the NODE_OPTIONS took effect, and every round's first call got the answer its
    // handler gives a valid POST to /.
    expect([result.cold.sourceMaps.sourceMaps, result.cold.noSourceMaps.sourceMaps]).toEqual([true, false]);
    expect(result.cold.noSourceMaps.nodeOptions).toBe(LAMBDA_NODE_OPTIONS);
    for (const variant of VARIANTS) {
      const cold = result.cold[variant];
      const statuses = Object.fromEntries(ENTRIES.map((e) => [e, cold.entries[e].firstCallStatuses]));
      expect(statuses).toEqual({
        empty: { null: 3 },
        oursVerify: { 204: 3 },
        standardwebhooks: { 204: 3 },
        standardwebhooksCrypto: { 204: 3 },
        mapLookup: { 200: 3 },
        eventHandler: { 200: 3 },
      });
      expect(cold.entries.oursVerify.builtins).toContain('crypto');
      expect(cold.entries.standardwebhooksCrypto.builtins).toContain('crypto');
      expect(cold.entries.standardwebhooks.builtins).not.toContain('crypto');
      // The Router's first call builds web Request/Response objects: Node loads undici for them.
      expect(cold.entries.eventHandler.firstCallBuiltins).toContain('internal/deps/undici/undici');
      expect(cold.entries.mapLookup.firstCallBuiltins).not.toContain('internal/deps/undici/undici');
    }
  });

  it('gives finite figures and prints them', () => {
    // Assess
    const numbers = [
      ...VARIANTS.flatMap((variant) => {
        const cold = result.cold[variant];
        return [
          ...ENTRIES.flatMap((e) => {
            const f = cold.entries[e];
            return [
              f.importMs,
              f.overEmptyMs.median,
              f.overEmptyMs.p25,
              f.overEmptyMs.p75,
              f.firstCallMs,
              f.webGlobalsMs,
            ];
          }),
          ...Object.values(cold.libraryCostMs).flatMap((s) => [s.median, s.p25, s.p75]),
        ];
      }),
      ...result.verify.flatMap((v) => [v.oursUs, v.standardwebhooksUs, v.ratio]),
    ];
    expect(numbers.length).toBeGreaterThan(70);
    for (const n of numbers) expect(Number.isFinite(n)).toBe(true);
    expect(result.rounds).toBe(3);
    expect(result.verify.map((v) => v.bodyBytes)).toEqual([200, 65536]);
    const table = librariesTable(result).join('\n');
    for (const e of ENTRIES) expect(table).toContain(result.sizes[e].label);
  });

  it('keeps both libraries out of the Lambda code', async () => {
    // Arrange
    const root = resolve(import.meta.dirname, '../../functions');
    const files = (await readdir(root, { recursive: true })).filter((f) => /\.[cm]?[jt]s$/.test(f));

    // Act
    const importing = [];
    for (const f of files) {
      const text = await readFile(join(root, f), 'utf8');
      if (/from\s+['"](standardwebhooks|@aws-lambda-powertools\/event-handler)/.test(text)) importing.push(f);
      if (/import\(\s*['"](standardwebhooks|@aws-lambda-powertools\/event-handler)/.test(text))
        importing.push(f);
    }

    // Assess
    expect(files.length).toBeGreaterThan(10);
    expect(importing).toEqual([]);
  });
});
