/**
 * The benchmark's own files in a temporary folder: the cold-init probe, an empty handler (the
 * baseline), and the child processes of the warm and drain benchmarks. The Lambda code they load
 * is what `cdk synth` deploys (deployed.ts), never a build of this file's own.
 */
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/** CommonJS dependencies bundled into ESM still call require() for Node built-ins. */
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface BenchFiles {
  dir: string;
  /** A folder with `index.mjs` exporting an empty handler: the baseline of a cold init. */
  emptyDir: string;
  /** Imports a handler as the Lambda Node.js runtime's init does and prints what it took. */
  probe: string;
  warmWorker: string;
  drainWorker: string;
  remove(): Promise<void>;
}

/**
 * The timed import every probe starts with: resolves `_HANDLER` in `LAMBDA_TASK_ROOT` as the
 * runtime does (`index.handler`: `index.js`, `index.mjs` or `index.cjs`, the export `handler`),
 * imports the module by file URL, takes the export and checks it is a function. Timed from the
 * import to the resolved handler (`ms`, `cpu`); `startUs`/`endUs` are on the monotonic clock V8's
 * CPU profiles use (init-trace.ts, `--cpu-prof`); `builtins` are the Node built-ins it loaded.
 * Leaves `handler`, `ms`, `startUs`, `endUs`, `cpu`, `before` and `builtins` for what follows.
 */
export const PROBE_IMPORT = `import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const root = process.env.LAMBDA_TASK_ROOT;
const spec = process.env._HANDLER;
const dot = spec.lastIndexOf('.');
const base = join(root, spec.slice(0, dot));
const file = ['.js', '.mjs', '.cjs'].map((e) => base + e).find((f) => existsSync(f));
if (!file) throw new Error('no module for ' + spec + ' in ' + root);
const before = new Set(process.moduleLoadList);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const startUs = Number(process.hrtime.bigint() / 1000n);
const mod = await import(pathToFileURL(file).href);
const handler = mod[spec.slice(dot + 1)];
const ms = performance.now() - t0;
const endUs = Number(process.hrtime.bigint() / 1000n);
const cpu = process.cpuUsage(cpu0);
if (typeof handler !== 'function') throw new Error(spec + ' is not a function');
const builtins = process.moduleLoadList
  .filter((m) => !before.has(m) && m.startsWith('NativeModule '))
  .map((m) => m.slice('NativeModule '.length));
`;

/**
 * The probe: the timed import, and what it measured. With the init tracer (`--import`,
 * init-trace.ts) it adds each module's own time.
 */
const PROBE = `${PROBE_IMPORT}const sample = {
  ms,
  startUs,
  endUs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  rssMb: process.memoryUsage.rss() / 1048576,
  sourceMaps: process.sourceMapsEnabled,
  builtins,
  trace: globalThis.__initTraceResult?.(),
};
process.stdout.write('\\n' + JSON.stringify(sample) + '\\n');
`;

async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    // The workers' own SDK use (the drain's SQS client lives in the parent) resolves from ours.
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
}

/** Writes the probe, the empty handler and the two workers into a fresh temporary folder. */
export async function buildBenchFiles(): Promise<BenchFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'eset-close-bridge-bench-'));
  // The workers' externals resolve from the project's node_modules.
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const emptyDir = join(dir, 'empty');
  await mkdir(emptyDir);
  await writeFile(join(emptyDir, 'index.mjs'), 'export const handler = async () => ({});\n');
  const probe = join(dir, 'probe.mjs');
  await writeFile(probe, PROBE);
  const warmWorker = join(dir, 'warm-worker.mjs');
  const drainWorker = join(dir, 'drain-worker.mjs');
  await Promise.all([
    bundleWorker('scripts/bench/warm-worker.ts', warmWorker),
    bundleWorker('scripts/bench/drain-worker.ts', drainWorker),
  ]);
  return {
    dir,
    emptyDir,
    probe,
    warmWorker,
    drainWorker,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface InitFiles {
  /** Files read at cold start: `index.mjs` and every chunk it imports statically. */
  files: string[];
  bytes: number;
}

/**
 * What a cold start of a deployed function reads: the entry and the chunks it imports statically
 * (chunks behind `await import()` are read on first use). esbuild parses the deployed files.
 */
export async function initFiles(codeDir: string): Promise<InitFiles> {
  const result = await build({
    entryPoints: [join(codeDir, 'index.mjs')],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    outdir: join(codeDir, 'unused'),
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs as Metafile['inputs'];
  const key = (abs: string) => Object.keys(inputs).find((k) => resolve(k) === abs);
  const start = key(join(codeDir, 'index.mjs'));
  if (!start) throw new Error(`no index.mjs in ${codeDir}`);
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of inputs[path]?.imports ?? []) {
      if (i.kind === 'import-statement' && !i.external && inputs[i.path]) visit(i.path);
    }
  };
  visit(start);
  const files = [...seen].map((k) => resolve(k));
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return { files, bytes: sizes.reduce((a, b) => a + b, 0) };
}
