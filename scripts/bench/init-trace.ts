/**
 * What loads at init, module by module, and where the rest of the time goes. Each entry is built again with the stack's own build
 * options (infra/bundle.ts, `lambdaBuildOptions`) plus one esbuild plugin that puts a marker at the
 * start and at the end of every module's code; esbuild keeps the modules in evaluation order, so a
 * module's own time is from its start marker to its end marker, less the modules it runs inside
 * it (a CommonJS `require`). The instrumented build is imported by the same probe as the cold-init
 * figure, with the deployed environment, and the tracer (`--import`) sums the times.
 *
 * What the markers cannot see is reported beside them: the bytes each package puts into the files
 * read at init, the Node built-ins by name, and a V8 CPU profile (`--cpu-prof`) of the deployed
 * files' import, its samples sorted into compiling, source maps, built-ins, module code (by
 * package, through the source maps) and the loader. A profiled process runs slower than a plain
 * one; the shares tell where the time goes, the cold-init figure how much it is.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

/** Where a share of the profiled import time went. */
export interface InitProfile {
  runs: number;
  /** Median profiled import time, ms (more than unprofiled: sampling has a cost). */
  importMs: number;
  /** Mean ms per run in each part, largest first. */
  parts: { part: string; ms: number }[];
}

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
};
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };

/** The part of init a sample belongs to, from its stack (leaf first). */
function partOf(
  stack: ProfileNode['callFrame'][],
  moduleOf: (f: ProfileNode['callFrame']) => string | undefined,
) {
  const leaf = stack[0];
  if (leaf?.functionName === '(garbage collector)') return 'garbage collection';
  const has = (name: string) => stack.some((f) => f.functionName === name);
  if (has('maybeCacheSourceMap')) return 'source maps (--enable-source-maps)';
  if (has('compileForInternalLoader')) {
    // The outermost built-in being loaded (the stack is leaf first): what the code asked for.
    const outer = stack.findLastIndex((f) => f.functionName === 'compileForInternalLoader');
    const loaded = stack
      .slice(0, outer)
      .findLast((f) => f.url.startsWith('node:'))
      ?.url.slice('node:'.length);
    return `Node built-ins: ${loaded ?? 'other'}`;
  }
  if (has('compileSourceTextModule')) return 'compiling the files';
  for (const f of stack) {
    const m = moduleOf(f);
    if (m) return `module code: ${m}`;
  }
  return 'loader (resolve, read, link) and the rest';
}

/**
 * CPU profiles of `runs` fresh imports of each deployed function (deployed environment and
 * NODE_OPTIONS, as the cold-init probe), cut to the import's own time.
 */
export async function profileInit(
  files: BenchFiles,
  app: DeployedApp,
  runs: number,
): Promise<Record<FunctionName, InitProfile>> {
  const out = {} as Record<FunctionName, InitProfile>;
  for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
    const fn = app[name];
    const dir = join(files.dir, 'init-profile', name);
    await mkdir(dir, { recursive: true });
    const maps = new Map<string, SourceMap | null>();
    const moduleOf = (f: ProfileNode['callFrame']): string | undefined =>
      f.url.startsWith('file://') && fileURLToPath(f.url).startsWith(fn.codeDir)
        ? originalModule(f, maps)
        : undefined;
    const totals = new Map<string, number>();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const profileName = `run-${i}.cpuprofile`;
      const sample = probeOnce(files, fn, {
        extraArgs: [
          '--cpu-prof',
          `--cpu-prof-dir=${dir}`,
          `--cpu-prof-name=${profileName}`,
          '--cpu-prof-interval=100',
        ],
      });
      times.push(sample.ms);
      const profile = JSON.parse(await readFile(join(dir, profileName), 'utf8')) as CpuProfile;
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const parent = new Map<number, number>();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      let at = profile.startTime;
      profile.samples.forEach((id, k) => {
        at += profile.timeDeltas[k] ?? 0;
        if (at < sample.startUs || at > sample.endUs) return;
        const ms = (profile.timeDeltas[k + 1] ?? 0) / 1000;
        const stack: ProfileNode['callFrame'][] = [];
        for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
          const node = byId.get(n);
          if (node) stack.push(node.callFrame);
        }
        const part = partOf(stack, moduleOf);
        totals.set(part, (totals.get(part) ?? 0) + ms);
      });
    }
    out[name] = {
      runs,
      importMs: median(times),
      parts: [...totals]
        .map(([part, ms]) => ({ part, ms: Math.round((ms / runs) * 100) / 100 }))
        .sort((a, b) => b.ms - a.ms),
    };
  }
  return out;
}

/** The module or package a frame of the deployed files comes from, through their source maps. */
function originalModule(f: ProfileNode['callFrame'], maps: Map<string, SourceMap | null>): string {
  const file = fileURLToPath(f.url);
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  const entry = map?.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string } | undefined;
  const source = entry?.originalSource;
  // Module-scope code of every module runs in one top-level function, which maps to no source.
  if (!source) return 'top level of the bundle (module-scope code)';
  const path = source.startsWith('file://') ? fileURLToPath(source) : source;
  const i = path.lastIndexOf('node_modules/');
  if (i >= 0) return moduleName(path.slice(i));
  const j = path.lastIndexOf('functions/');
  return j >= 0 ? path.slice(j) : path;
}
