/**
 * How a Lambda entry is bundled, shared by the CDK stack and the benchmarks so that what is
 * measured is what is deployed.
 *
 * esbuild with code splitting: the entry file holds what every invocation needs; what the code
 * loads with `await import()` (the SQS client, Secrets Manager, Powertools Idempotency and the
 * DynamoDB client) lands in separate chunks that Node reads on first use, not at cold start.
 * The AWS SDK v3 clients are bundled, so the deployed code runs the versions the tests ran,
 * whatever SDK the Lambda runtime ships this month. A single-file bundle (NodejsFunction) cannot
 * do both: a lazily imported module's SDK imports would be hoisted into the cold start.
 */
import { type BuildOptions, buildSync } from 'esbuild';

/** CommonJS dependencies bundled into ESM still call require() for Node built-ins. */
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export function lambdaBuildOptions(entry: string, outdir: string, target = 'node22'): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    // Prefer the ESM build of dependencies that ship both.
    mainFields: ['module', 'main'],
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: BANNER },
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** Bundles `entry` into `outdir/index.mjs` (+ chunks); the Lambda handler is `index.handler`. */
export function bundleLambda(entry: string, outdir: string): void {
  buildSync(lambdaBuildOptions(entry, outdir));
}

/**
 * Node options of every function. A 4 MB semi-space keeps the young generation (and so the
 * resident memory of a busy retry worker) small, at the cost of more frequent, cheap scavenges
 * (measured in `npm run bench`: same drain rate).
 *
 * No `--enable-source-maps` by default: it costs 10 to 14 ms at every cold start (Node reads and
 * parses each file's map as it loads it; `npm run bench -- --explain`), and the bridge never
 * prints a stack trace (errors are logged and answered by name and message). Measured, warm
 * invocations were about 1 ms faster with it (BENCHMARKS.md); a webhook bridge starts cold often.
 * The maps are still in the bundle; the `sourceMaps` context setting turns them on, for readable
 * stack traces of a crash the handlers do not catch (an error at init, for one).
 */
export const LAMBDA_NODE_OPTIONS = '--max-semi-space-size=4';
export const SOURCE_MAPS_NODE_OPTION = '--enable-source-maps';

/** NODE_OPTIONS of a function, with or without source maps (the `sourceMaps` setting). */
export function lambdaNodeOptions(sourceMaps: boolean): string {
  return sourceMaps ? `${SOURCE_MAPS_NODE_OPTION} ${LAMBDA_NODE_OPTIONS}` : LAMBDA_NODE_OPTIONS;
}
