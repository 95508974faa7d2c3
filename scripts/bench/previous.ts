/**
 * An earlier commit of the bridge as it was deployed, for comparisons (the warm receive path with
 * the previous release, cold init before and after a change): the commit's tree from git (`git archive`), its own `cdk synth` (its bundling, its environment),
 * with the dependencies its lock file names. When every package of that lock file is at the same
 * version and integrity in ours, the release uses our node_modules; otherwise `npm ci` installs
 * its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DeployedApp, synthWithCdk } from './deployed';

const ROOT = resolve(import.meta.dirname, '../..');

/** The last release before the incident record: the receive Lambda with Powertools Idempotency. */
export const PREVIOUS_RELEASE = 'ce5200f';

export type Release =
  | { commit: string; app: DeployedApp; dependencies: 'shared' | 'installed' }
  | { commit: string; skipped: string };

type Lock = { packages?: Record<string, { version?: string; integrity?: string }> };

function run(cmd: string, args: string[], cwd: string): string {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(res.stderr ?? '').slice(-1000)}`);
  return res.stdout;
}

/** True when every package the old lock file names is locked the same in ours. */
async function sameDependencies(oldLock: Lock): Promise<boolean> {
  const ours = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  return Object.entries(oldLock.packages ?? {}).every(([path, p]) => {
    if (path === '') return true;
    const q = ours.packages?.[path];
    return q?.version === p.version && q?.integrity === p.integrity;
  });
}

/** Synthesizes `commit` under `dir`; says why not instead of failing (no git, a shallow clone...). */
export async function synthCommit(commit: string, dir: string): Promise<Release> {
  let full: string;
  try {
    full = run('git', ['rev-parse', '--verify', `${commit}^{commit}`], ROOT).trim();
  } catch (err) {
    return { commit, skipped: `commit ${commit} is not in this clone (${(err as Error).message.trim()})` };
  }
  const src = join(dir, 'src');
  await mkdir(src, { recursive: true });
  const tar = join(dir, 'tree.tar');
  run('git', ['archive', '--format=tar', '-o', tar, full], ROOT);
  run('tar', ['-xf', tar, '-C', src], ROOT);
  const lock = JSON.parse(await readFile(join(src, 'package-lock.json'), 'utf8')) as Lock;
  let dependencies: 'shared' | 'installed';
  if (await sameDependencies(lock)) {
    await symlink(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
    dependencies = 'shared';
  } else {
    run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], src);
    dependencies = 'installed';
  }
  const app = await synthWithCdk(join(dir, 'cdk.out'), { appDir: src });
  return { commit: full.slice(0, 7), app, dependencies };
}
