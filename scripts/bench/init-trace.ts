/**
 * What loads at init, module by module. Each entry is built again with the stack's own build
 * options (infra/bundle.ts, `lambdaBuildOptions`) plus one esbuild plugin that puts a marker at the
 * start and at the end of every module's code; esbuild keeps the modules in evaluation order, so a
 * module's own time is from its start marker to its end marker, less the modules it runs inside
 * it (a CommonJS `require`). The instrumented build is imported by the same probe as the cold-init
 * figure, with the deployed environment, and the tracer (`--import`) sums the times.
 *
 * What the markers cannot see is reported beside them: reading and compiling the files, linking,
 * Node built-ins (by name), and the bytes each package puts into the files read at init.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { lambdaBuildOptions } from '../../infra/bundle';
import type { BenchFiles } from './build';
import { type ProbeSample, probeOnce } from './cold-init';
import { type DeployedApp, FUNCTIONS, type FunctionName } from './deployed';
import { median } from './stats';

const ROOT = resolve(import.meta.dirname, '../..');

const TRACER = `const stack = [];
const self = new Map();
let last = 0;
globalThis.__initTrace = (mod, end) => {
  const now = performance.now();
  const top = stack.at(-1);
  if (top !== undefined) self.set(top, (self.get(top) ?? 0) + now - last);
  if (end) stack.pop();
  else stack.push(mod);
  last = now;
};
globalThis.__initTraceResult = () => Object.fromEntries(self);
`;

/** Marks the start and the end of every module (after a directive prologue or a hashbang). */
const markers: Plugin = {
  name: 'init-trace-markers',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const name = JSON.stringify(moduleName(relative(ROOT, args.path)));
      const head = /^(#![^\n]*\n)?(\s*(['"])use strict\3;?)?/.exec(text)?.[0] ?? '';
      return {
        contents: `${head}\nglobalThis.__initTrace?.(${name},0);\n${text.slice(head.length)}\n;globalThis.__initTrace?.(${name},1);\n`,
        loader: args.path.endsWith('ts') ? 'ts' : 'js',
      };
    });
  },
};

/** `functions/...` files by path; dependencies by package name. */
function moduleName(path: string): string {
  const i = path.lastIndexOf('node_modules/');
  if (i < 0) return path;
  const parts = path.slice(i + 'node_modules/'.length).split('/');
  return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

export interface InitTrace {
  runs: number;
  /** Median import time of the instrumented build (markers included), ms. */
  importMs: number;
  /** Median of the sum of all module bodies: the code that runs at init, ms. */
  bodiesMs: number;
  /** Each module's (or package's) own time, median over the runs, largest first. */
  modules: { module: string; ms: number }[];
  /** Bytes each module or package puts into the files read at init, largest first. */
  bytes: { module: string; kib: number }[];
  /** Node built-ins loaded by the import that a bare process had not. */
  builtins: string[];
}

/** Builds the instrumented entries and traces `runs` fresh imports of each, in turns. */
export async function traceInit(
  files: BenchFiles,
  app: DeployedApp,
  runs: number,
): Promise<Record<FunctionName, InitTrace>> {
  const tracer = join(files.dir, 'init-tracer.mjs');
  await writeFile(tracer, TRACER);
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const built = await Promise.all(
    names.map(async (name) => {
      const outdir = join(files.dir, 'init-trace', name);
      const options = lambdaBuildOptions(join(ROOT, FUNCTIONS[name].entry), outdir);
      await build({ ...options, logLevel: 'silent', plugins: [markers] });
      // The bytes from the same build without markers.
      const plain = await build({ ...options, metafile: true, write: false, logLevel: 'silent' });
      return { name, outdir, metafile: plain.metafile };
    }),
  );
  const empty = probeOnce(files, { ...app.receive, codeDir: files.emptyDir });
  const samples = new Map<FunctionName, ProbeSample[]>(names.map((n) => [n, []]));
  for (let round = 0; round < runs; round++) {
    for (const b of built) {
      const fn = { ...app[b.name], codeDir: b.outdir };
      samples
        .get(b.name)
        ?.push(probeOnce(files, fn, { extraArgs: ['--import', pathToFileURL(tracer).href] }));
    }
  }
  const out = {} as Record<FunctionName, InitTrace>;
  for (const b of built) {
    const s = samples.get(b.name) ?? [];
    const keys = new Set(s.flatMap((x) => Object.keys(x.trace ?? {})));
    const modules = [...keys]
      .map((module) => ({ module, ms: median(s.map((x) => x.trace?.[module] ?? 0)) }))
      .sort((a, c) => c.ms - a.ms);
    const bare = new Set(empty.builtins);
    out[b.name] = {
      runs,
      importMs: median(s.map((x) => x.ms)),
      bodiesMs: median(s.map((x) => Object.values(x.trace ?? {}).reduce((a, c) => a + c, 0))),
      modules,
      bytes: initBytes(b.metafile, b.outdir),
      builtins: (s[0]?.builtins ?? []).filter((m) => !bare.has(m)),
    };
  }
  return out;
}

/** Bytes per module or package in the entry file and the chunks it imports statically. */
function initBytes(metafile: Metafile, outdir: string): { module: string; kib: number }[] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((k) => resolve(k) === join(outdir, 'index.mjs'));
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path) || !outputs[path]) return;
    seen.add(path);
    for (const i of outputs[path].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  if (entry) visit(entry);
  const bytes = new Map<string, number>();
  for (const path of seen) {
    for (const [input, i] of Object.entries(outputs[path]?.inputs ?? {})) {
      const name = moduleName(input);
      bytes.set(name, (bytes.get(name) ?? 0) + i.bytesInOutput);
    }
  }
  return [...bytes]
    .map(([module, b]) => ({ module, kib: Math.round(b / 102.4) / 10 }))
    .sort((a, c) => c.kib - a.kib);
}
