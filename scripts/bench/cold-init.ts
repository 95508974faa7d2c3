/**
 * Cold init: the median time to import each bundled Lambda entry in a fresh Node process (what
 * Lambda's init phase spends on our code), minus the median for an empty module measured in the
 * same rounds, so process start-up and the loader itself do not count.
 */
import { spawnSync } from 'node:child_process';
import type { Bundles } from './build';
import { lambdaEnv, median } from './stats';

export interface ColdInitResult {
  runs: number;
  emptyMs: number;
  /** Import time over the empty module, SDK external (as the runtime provides it). */
  receiveMs: number;
  retryMs: number;
  /** For information: the same with the AWS SDK bundled in (how infra/ deploys them today). */
  receiveWithSdkMs: number;
  retryWithSdkMs: number;
  /** Resident memory right after the import, MiB (receive entry, SDK external). */
  receiveRssMb: number;
}

function importOnce(probe: string, target: string): { ms: number; rssMb: number } {
  const res = spawnSync(process.execPath, [probe, target], { env: lambdaEnv(), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`importing ${target} failed: ${res.stderr.slice(0, 2000)}`);
  return JSON.parse(res.stdout) as { ms: number; rssMb: number };
}

export function measureColdInit(b: Bundles, runs: number): ColdInitResult {
  const targets = {
    empty: b.empty,
    receive: b.receive.file,
    retry: b.retry.file,
    receiveWithSdk: b.receiveWithSdk.file,
    retryWithSdk: b.retryWithSdk.file,
  };
  const names = Object.keys(targets) as (keyof typeof targets)[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
    keyof typeof targets,
    number[]
  >;
  const rss: number[] = [];
  // One throw-away round warms the file cache; then the targets take turns so drift hits all alike.
  for (const n of names) importOnce(b.probe, targets[n]);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length] as keyof typeof targets;
      const { ms, rssMb } = importOnce(b.probe, targets[n]);
      samples[n].push(ms);
      if (n === 'receive') rss.push(rssMb);
    }
  }
  const emptyMs = median(samples.empty);
  return {
    runs,
    emptyMs,
    receiveMs: median(samples.receive) - emptyMs,
    retryMs: median(samples.retry) - emptyMs,
    receiveWithSdkMs: median(samples.receiveWithSdk) - emptyMs,
    retryWithSdkMs: median(samples.retryWithSdk) - emptyMs,
    receiveRssMb: median(rss),
  };
}
