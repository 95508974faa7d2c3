/**
 * Cold init of the deployed functions: each sample is a fresh Node process that imports the
 * handler the way the Lambda Node.js runtime's init does (probe in build.ts), started with the
 * function's deployed environment, NODE_OPTIONS included, in its code folder. An empty handler
 * module, started the same way, is the baseline: what process start-up and the loader cost without
 * our code. The three take turns, round after round, so drift on the machine hits all alike; no
 * round is thrown away (the files were just written, so they are in the page cache as a first run
 * on this machine finds them).
 */
import { spawnSync } from 'node:child_process';
import type { BenchFiles } from './build';
import type { DeployedApp, DeployedFunction, FunctionName } from './deployed';
import { median } from './stats';

/** What one fresh process reports (build.ts, PROBE). */
export interface ProbeSample {
  ms: number;
  startUs: number;
  endUs: number;
  cpuMs: number;
  rssMb: number;
  sourceMaps: boolean;
  builtins: string[];
  trace?: Record<string, number>;
}

export interface ColdInitFigures {
  /** Median wall time of import + handler resolution, ms. */
  ms: number;
  /** Median CPU time (user + system) of the same, ms: less sensitive to other load on the machine. */
  cpuMs: number;
  rssMb: number;
}

/** Both functions' figures from the same rounds. */
export interface FunctionsColdInit {
  receive: ColdInitFigures;
  retry: ColdInitFigures;
  /** Median over the empty handler, ms: the figure of the goal. */
  receiveMs: number;
  retryMs: number;
  receiveCpuMs: number;
  retryCpuMs: number;
}

export interface ColdInitResult extends FunctionsColdInit {
  runs: number;
  /** NODE_OPTIONS the processes ran with (the deployed value unless overridden). */
  nodeOptions: string;
  sourceMapsEnabled: boolean;
  empty: ColdInitFigures;
  /** Node built-ins each import loaded that a bare process had not. */
  builtins: Record<FunctionName, string[]>;
  /** Another build of the functions (an earlier commit), or other NODE_OPTIONS, in the same rounds. */
  before?: FunctionsColdInit & { label: string };
}

/** Starts one fresh process that imports `fn`'s handler; `extraArgs` go to node before the probe. */
export function probeOnce(
  files: Pick<BenchFiles, 'probe'>,
  fn: Pick<DeployedFunction, 'codeDir' | 'handler' | 'env'>,
  opts: { nodeOptions?: string; extraArgs?: string[] } = {},
): ProbeSample {
  const env = {
    ...fn.env,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    ...(opts.nodeOptions !== undefined ? { NODE_OPTIONS: opts.nodeOptions } : {}),
  };
  const res = spawnSync(process.execPath, [...(opts.extraArgs ?? []), files.probe], {
    cwd: fn.codeDir,
    env,
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    throw new Error(`importing ${fn.handler} from ${fn.codeDir} failed: ${res.stderr.slice(0, 2000)}`);
  }
  const last = res.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as ProbeSample;
}

const figures = (samples: ProbeSample[]): ColdInitFigures => ({
  ms: median(samples.map((s) => s.ms)),
  cpuMs: median(samples.map((s) => s.cpuMs)),
  rssMb: median(samples.map((s) => s.rssMb)),
});

type Target = 'empty' | FunctionName | 'beforeEmpty' | 'beforeReceive' | 'beforeRetry';

/**
 * Median cold init of both deployed functions and of the empty handler over `runs` rounds.
 * `nodeOptions` replaces the deployed NODE_OPTIONS (to tell what an option costs). `before` joins
 * the same rounds, so that a comparison is made under one load: the functions built from another
 * commit, or these with other NODE_OPTIONS (then with an empty handler of their own).
 */
export function measureColdInit(
  files: BenchFiles,
  app: DeployedApp,
  runs: number,
  opts: { nodeOptions?: string; before?: { label: string; app: DeployedApp; nodeOptions?: string } } = {},
): ColdInitResult {
  // The empty handler runs with the receive function's environment: same NODE_OPTIONS, same size.
  const empty: DeployedFunction = { ...app.receive, codeDir: files.emptyDir };
  const probeOpts = opts.nodeOptions !== undefined ? { nodeOptions: opts.nodeOptions } : {};
  const before = opts.before;
  const beforeOpts = before?.nodeOptions !== undefined ? { nodeOptions: before.nodeOptions } : probeOpts;
  const targets: Partial<Record<Target, { fn: DeployedFunction; nodeOptions?: string }>> = {
    empty: { fn: empty, ...probeOpts },
    receive: { fn: app.receive, ...probeOpts },
    retry: { fn: app.retry, ...probeOpts },
    ...(before
      ? {
          ...(before.nodeOptions !== undefined ? { beforeEmpty: { fn: empty, ...beforeOpts } } : {}),
          beforeReceive: { fn: before.app.receive, ...beforeOpts },
          beforeRetry: { fn: before.app.retry, ...beforeOpts },
        }
      : {}),
  };
  const names = Object.keys(targets) as Target[];
  const samples: Record<Target, ProbeSample[]> = {
    empty: [],
    receive: [],
    retry: [],
    beforeEmpty: [],
    beforeReceive: [],
    beforeRetry: [],
  };
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as Target;
      const target = targets[name] as { fn: DeployedFunction; nodeOptions?: string };
      samples[name].push(
        probeOnce(
          files,
          target.fn,
          target.nodeOptions !== undefined ? { nodeOptions: target.nodeOptions } : {},
        ),
      );
    }
  }
  const e = figures(samples.empty);
  const r = figures(samples.receive);
  const t = figures(samples.retry);
  const bare = new Set(samples.empty[0]?.builtins ?? []);
  const loaded = (s: ProbeSample[]) => (s[0]?.builtins ?? []).filter((b) => !bare.has(b));
  return {
    runs,
    nodeOptions: opts.nodeOptions ?? app.receive.env.NODE_OPTIONS ?? '',
    sourceMapsEnabled: samples.receive[0]?.sourceMaps ?? false,
    empty: e,
    receive: r,
    retry: t,
    receiveMs: r.ms - e.ms,
    retryMs: t.ms - e.ms,
    receiveCpuMs: r.cpuMs - e.cpuMs,
    retryCpuMs: t.cpuMs - e.cpuMs,
    builtins: { receive: loaded(samples.receive), retry: loaded(samples.retry) },
    ...(opts.before
      ? {
          before: (() => {
            const be = samples.beforeEmpty.length > 0 ? figures(samples.beforeEmpty) : e;
            const br = figures(samples.beforeReceive);
            const bt = figures(samples.beforeRetry);
            return {
              label: opts.before.label,
              receive: br,
              retry: bt,
              receiveMs: br.ms - be.ms,
              retryMs: bt.ms - be.ms,
              receiveCpuMs: br.cpuMs - be.cpuMs,
              retryCpuMs: bt.cpuMs - be.cpuMs,
            };
          })(),
        }
      : {}),
  };
}
