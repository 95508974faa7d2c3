/**
 * Cold init: the median time to import each bundled Lambda entry in a fresh Node process (what
 * Lambda's init phase spends on our code), minus the median for an empty module measured in the
 * same rounds, so process start-up and the loader itself do not count.
 */
import { spawnSync } from 'node:child_process';
import { type Bundles, buildWithoutSdk, staticSdkImports } from './build';
import { lambdaEnv, median } from './stats';

export interface ColdInitResult {
  runs: number;
  emptyMs: number;
  /** Import time over the empty module, SDK external (as the runtime provides it). */
  receiveMs: number;
  retryMs: number;
  /** For information: one file with the AWS SDK inside (what NodejsFunction would build). */
  receiveWithSdkMs: number;
  retryWithSdkMs: number;
  /** Resident memory right after the import, MiB. */
  rssMb: { empty: number; receive: number; retry: number };
}

export interface ColdInitExplained {
  /** With every @aws-sdk import stubbed out: the cost of our code, Powertools and zod alone. */
  receiveWithoutSdkMs: number;
  retryWithoutSdkMs: number;
  rssWithoutSdkMb: { receive: number; retry: number };
  /** SDK packages each bundle loads at cold start (top-level imports). */
  staticSdkImports: { receive: string[]; retry: string[] };
}

function importOnce(probe: string, target: string): { ms: number; rssMb: number } {
  const res = spawnSync(process.execPath, [probe, target], { env: lambdaEnv(), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`importing ${target} failed: ${res.stderr.slice(0, 2000)}`);
  return JSON.parse(res.stdout) as { ms: number; rssMb: number };
}

/** Medians of import time and RSS per target; targets take turns so drift hits all alike. */
function measureImports<K extends string>(
  probe: string,
  targets: Record<K, string>,
  runs: number,
): Record<K, { ms: number; rssMb: number }> {
  const names = Object.keys(targets) as K[];
  const ms = new Map<K, number[]>(names.map((n) => [n, []]));
  const rss = new Map<K, number[]>(names.map((n) => [n, []]));
  // One throw-away round warms the file cache.
  for (const n of names) importOnce(probe, targets[n]);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length] as K;
      const sample = importOnce(probe, targets[n]);
      ms.get(n)?.push(sample.ms);
      rss.get(n)?.push(sample.rssMb);
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { ms: median(ms.get(n) ?? []), rssMb: median(rss.get(n) ?? []) }]),
  ) as Record<K, { ms: number; rssMb: number }>;
}

export function measureColdInit(b: Bundles, runs: number): ColdInitResult {
  const m = measureImports(
    b.probe,
    {
      empty: b.empty,
      receive: b.receive.file,
      retry: b.retry.file,
      receiveWithSdk: b.receiveWithSdk.file,
      retryWithSdk: b.retryWithSdk.file,
    },
    runs,
  );
  const empty = m.empty.ms;
  return {
    runs,
    emptyMs: empty,
    receiveMs: m.receive.ms - empty,
    retryMs: m.retry.ms - empty,
    receiveWithSdkMs: m.receiveWithSdk.ms - empty,
    retryWithSdkMs: m.retryWithSdk.ms - empty,
    rssMb: { empty: m.empty.rssMb, receive: m.receive.rssMb, retry: m.retry.rssMb },
  };
}

/** What the cold init is made of: the same entries with the SDK stubbed, and what loads it. */
export async function explainColdInit(b: Bundles, runs: number): Promise<ColdInitExplained> {
  const without = await buildWithoutSdk(b);
  const m = measureImports(
    b.probe,
    { empty: b.empty, receive: without.receive.file, retry: without.retry.file },
    runs,
  );
  return {
    receiveWithoutSdkMs: m.receive.ms - m.empty.ms,
    retryWithoutSdkMs: m.retry.ms - m.empty.ms,
    rssWithoutSdkMb: { receive: m.receive.rssMb, retry: m.retry.rssMb },
    staticSdkImports: {
      receive: await staticSdkImports(b.receive.file),
      retry: await staticSdkImports(b.retry.file),
    },
  };
}
