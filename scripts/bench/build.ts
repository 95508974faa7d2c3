/**
 * Bundles the Lambda entries as a deployment would (esbuild: ESM, platform node, minified, ESM
 * builds of dependencies first) into a temporary folder, plus the benchmark workers that load them.
 */
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { lambdaBuildOptions } from '../../infra/bundle';

const ROOT = resolve(import.meta.dirname, '../..');

/** CommonJS dependencies bundled into ESM still call require() for Node built-ins. */
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface Bundle {
  file: string;
  bytes: number;
  /** Largest inputs by bytes in the output, for telling what a cold start loads. */
  topInputs: { path: string; bytes: number }[];
}

export interface Bundles {
  dir: string;
  receive: Bundle;
  retry: Bundle;
  /** For comparison: one file with the AWS SDK inside (what NodejsFunction would build). */
  receiveWithSdk: Bundle;
  retryWithSdk: Bundle;
  /** An empty module: the baseline of an import in a fresh process. */
  empty: string;
  /** Imports one module and prints how long the import took (the cold-init probe). */
  probe: string;
  warmWorker: string;
  drainWorker: string;
  remove(): Promise<void>;
}

async function bundle(
  entry: string,
  outfile: string,
  opts: { sdk: 'external' | 'bundled' | 'stubbed'; minify: boolean },
): Promise<Bundle> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: opts.minify,
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    // The Lambda Node.js runtime ships the AWS SDK v3, so a function may leave it out.
    external: opts.sdk === 'external' ? ['@aws-sdk/*'] : [],
    metafile: true,
    logLevel: 'silent',
    // 'stubbed': every @aws-sdk import becomes an empty module, to tell what loading the SDK costs.
    plugins: opts.sdk === 'stubbed' ? [stubSdk] : [],
  });
  const output = Object.values(result.metafile.outputs)[0] as Metafile['outputs'][string];
  const topInputs = Object.entries(output.inputs)
    .map(([path, i]) => ({ path, bytes: i.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
  return { file: outfile, bytes: output.bytes, topInputs };
}

/**
 * The entry as `cdk deploy` ships it (infra/bundle.ts: code splitting, SDK inside the chunks),
 * targeting this machine's Node. `bytes`: the entry and the chunks it imports statically.
 */
async function deployedBundle(entry: string, outdir: string): Promise<Bundle> {
  const result = await build({
    ...lambdaBuildOptions(join(ROOT, entry), outdir, 'node20'),
    metafile: true,
    logLevel: 'silent',
  });
  // What a cold start reads: the entry file and every chunk it imports statically (dynamic
  // import targets are entry points of the metafile too, so match the Lambda entry itself).
  const outputs = result.metafile.outputs;
  const [entryPath] = Object.entries(outputs).find(([, o]) => o.entryPoint === entry) as [
    string,
    Metafile['outputs'][string],
  ];
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path) || !outputs[path]) return;
    loaded.add(path);
    for (const i of outputs[path].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entryPath);
  const inputs = new Map<string, number>();
  let bytes = 0;
  for (const path of loaded) {
    const o = outputs[path] as Metafile['outputs'][string];
    bytes += o.bytes;
    for (const [input, i] of Object.entries(o.inputs))
      inputs.set(input, (inputs.get(input) ?? 0) + i.bytesInOutput);
  }
  const topInputs = [...inputs]
    .map(([path, b]) => ({ path, bytes: b }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
  return { file: join(outdir, 'index.mjs'), bytes, topInputs };
}

const stubSdk: Plugin = {
  name: 'stub-aws-sdk',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\// }, (a) => ({ path: a.path, namespace: 'stub-aws-sdk' }));
    b.onLoad({ filter: /.*/, namespace: 'stub-aws-sdk' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

/**
 * The AWS SDK packages a bundle imports at its top level, so at cold start, even when the code
 * only reaches them through `await import(...)`: esbuild hoists a lazily imported module's own
 * external imports to the top of a single-file ESM bundle.
 */
export async function staticSdkImports(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [
    ...new Set(
      [...text.matchAll(/(?:^|;|\n)\s*import\s*[^;()]*?from\s*"(@aws-sdk\/[^"]+)"/g)].map(
        (m) => m[1] as string,
      ),
    ),
  ];
}

/** The entries with the SDK stubbed out: what cold init would be if nothing loaded it eagerly. */
export async function buildWithoutSdk(b: Bundles): Promise<{ receive: Bundle; retry: Bundle }> {
  const [receive, retry] = await Promise.all([
    bundle('functions/receive.ts', join(b.dir, 'receive-nosdk.mjs'), { sdk: 'stubbed', minify: true }),
    bundle('functions/retry.ts', join(b.dir, 'retry-nosdk.mjs'), { sdk: 'stubbed', minify: true }),
  ]);
  return { receive, retry };
}

/** Builds everything into a fresh temporary folder that resolves external packages from ours. */
export async function buildBundles(): Promise<Bundles> {
  const dir = await mkdtemp(join(tmpdir(), 'eset-close-bridge-bench-'));
  // Externals (@aws-sdk/*) resolve from the project's node_modules, as the runtime's copy would.
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const empty = join(dir, 'empty.mjs');
  await writeFile(empty, 'export {};\n');
  const probe = join(dir, 'probe.mjs');
  await writeFile(
    probe,
    [
      "import { pathToFileURL } from 'node:url';",
      'const started = performance.now();',
      'await import(pathToFileURL(process.argv[2]).href);',
      'const ms = performance.now() - started;',
      'process.stdout.write(JSON.stringify({ ms, rssMb: process.memoryUsage.rss() / 1048576 }));',
      '',
    ].join('\n'),
  );
  const [receive, retry, receiveWithSdk, retryWithSdk] = await Promise.all([
    deployedBundle('functions/receive.ts', join(dir, 'receive')),
    deployedBundle('functions/retry.ts', join(dir, 'retry')),
    bundle('functions/receive.ts', join(dir, 'receive-sdk.mjs'), { sdk: 'bundled', minify: true }),
    bundle('functions/retry.ts', join(dir, 'retry-sdk.mjs'), { sdk: 'bundled', minify: true }),
  ]);
  const [warm, drain] = await Promise.all([
    bundle('scripts/bench/warm-worker.ts', join(dir, 'warm-worker.mjs'), { sdk: 'external', minify: false }),
    bundle('scripts/bench/drain-worker.ts', join(dir, 'drain-worker.mjs'), {
      sdk: 'external',
      minify: false,
    }),
  ]);
  return {
    dir,
    receive,
    retry,
    receiveWithSdk,
    retryWithSdk,
    empty,
    probe,
    warmWorker: warm.file,
    drainWorker: drain.file,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
