/**
 * What `cdk synth` deploys, for the benchmarks: each Lambda's code folder (the bundling the stack
 * really does), its handler, and the environment Lambda's init sees: the template's variables
 * (references resolved to stand-in values of the same shape, NODE_OPTIONS included) and the
 * variables the Lambda runtime defines itself.
 *
 * Two ways to the same artifacts:
 * - `cdk-synth` (`npm run bench`): `npx cdk synth --quiet --output <tmp>`, as an operator runs it;
 *   the code is the synthesized asset folders.
 * - `bundle-lambda` (the smoke test, a few seconds): the stack synthesized in-process without
 *   bundling, for the template, and each entry built by `bundleLambda`, the function the stack's
 *   bundling calls, with the same options. test/infra/bundle.test.ts proves that output
 *   byte-identical to the synthesized asset.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bundleLambda } from '../../infra/bundle';

const ROOT = resolve(import.meta.dirname, '../..');

/** The construct ids of the two functions in the stack, and their entry files. */
export const FUNCTIONS = {
  receive: { id: 'Receive', entry: 'functions/receive.ts' },
  retry: { id: 'Retry', entry: 'functions/retry.ts' },
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Stand-ins for what only a real account has: ids, region, credentials. */
export const STAND_IN = {
  account: '123456789012',
  region: 'eu-central-1',
  suffix: 'AbCdEfGhIjKl',
} as const;

export interface DeployedFunction {
  name: FunctionName;
  /** The function's code as deployed: `index.mjs` and its chunks (LAMBDA_TASK_ROOT). */
  codeDir: string;
  /** `index.handler` */
  handler: string;
  /** `nodejs22.x` */
  runtime: string;
  /** The environment of Lambda's init: runtime-defined variables, then the template's own. */
  env: Record<string, string>;
}

export interface DeployedApp {
  via: 'cdk-synth' | 'bundle-lambda';
  receive: DeployedFunction;
  retry: DeployedFunction;
}

type Intrinsic = { Ref: string } | Record<string, unknown>;
interface CfnResource {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, CfnResource>;
}

/**
 * A stand-in for a `{"Ref": ...}` in an environment variable, shaped like the real value (an ARN,
 * a queue URL, a table name), so the code's own validation sees what it sees in AWS.
 */
function standIn(value: string | Intrinsic, template: Template, stack: string): string {
  if (typeof value === 'string') return value;
  const ref = 'Ref' in value && typeof value.Ref === 'string' ? value.Ref : undefined;
  const type = ref ? template.Resources[ref]?.Type : undefined;
  const { account, region, suffix } = STAND_IN;
  switch (type) {
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${region}:${account}:secret:${ref}-AbCdEf`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${region}.amazonaws.com/${account}/${stack}-${ref}-${suffix}`;
    case 'AWS::DynamoDB::Table':
      return `${stack}-${ref}-${suffix}`;
    default:
      throw new Error(`no stand-in for the environment value ${JSON.stringify(value)}`);
  }
}

/**
 * The variables the Lambda runtime defines before init, as far as they can matter to the code
 * (paths of the runtime's own folders are left out).
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
function runtimeVariables(
  logicalId: string,
  props: Record<string, unknown>,
  codeDir: string,
  stack: string,
): Record<string, string> {
  const { account, region, suffix } = STAND_IN;
  const functionName = `${stack}-${logicalId}-${suffix}`;
  const logging = (props.LoggingConfig ?? {}) as { LogFormat?: string; ApplicationLogLevel?: string };
  const tracing = (props.TracingConfig ?? {}) as { Mode?: string };
  return {
    _HANDLER: String(props.Handler),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime)}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    ...(logging.LogFormat === 'JSON'
      ? {
          AWS_LAMBDA_LOG_FORMAT: 'JSON',
          ...(logging.ApplicationLogLevel ? { AWS_LAMBDA_LOG_LEVEL: logging.ApplicationLogLevel } : {}),
        }
      : {}),
    ...(tracing.Mode === 'Active'
      ? { AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR', AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000' }
      : {}),
    AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
    AWS_SESSION_TOKEN: `stand-in-session-token-for-${account}`,
    LAMBDA_TASK_ROOT: codeDir,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  };
}

/** Reads the two functions out of a synthesized template; `codeDirOf` says where each one's code is. */
export function functionsOf(
  template: Template,
  stack: string,
  codeDirOf: (name: FunctionName, assetPath: string | undefined) => string,
): Pick<DeployedApp, FunctionName> {
  const found: Partial<Record<FunctionName, DeployedFunction>> = {};
  for (const [logicalId, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const path = String(r.Metadata?.['aws:cdk:path'] ?? '');
    const name = (Object.keys(FUNCTIONS) as FunctionName[]).find(
      (n) => path === `${stack}/${FUNCTIONS[n].id}/Function/Resource`,
    );
    if (!name) continue;
    const props = r.Properties ?? {};
    const codeDir = codeDirOf(name, r.Metadata?.['aws:asset:path'] as string | undefined);
    const variables = ((props.Environment as { Variables?: Record<string, string | Intrinsic> })?.Variables ??
      {}) as Record<string, string | Intrinsic>;
    const own = Object.fromEntries(
      Object.entries(variables).map(([k, v]) => [k, standIn(v, template, stack)]),
    );
    found[name] = {
      name,
      codeDir,
      handler: String(props.Handler),
      runtime: String(props.Runtime),
      env: { ...runtimeVariables(logicalId, props, codeDir, stack), ...own },
    };
  }
  if (!found.receive || !found.retry)
    throw new Error(`the template of ${stack} lacks the Receive or Retry function`);
  return { receive: found.receive, retry: found.retry };
}

/** The stack template and the cloud assembly folder of a synthesized app. */
async function readAssembly(outdir: string, stack: string): Promise<Template> {
  const manifest = JSON.parse(await readFile(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const artifact = manifest.artifacts[stack];
  if (artifact?.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) {
    throw new Error(`no stack ${stack} in ${outdir}`);
  }
  return JSON.parse(await readFile(join(outdir, artifact.properties.templateFile), 'utf8')) as Template;
}

/**
 * `npx cdk synth --quiet` of the app in `appDir` (this repository, or an older release of it) into
 * `outdir`, then its functions as synthesized.
 */
export async function synthWithCdk(
  outdir: string,
  opts: { appDir?: string; stack?: string } = {},
): Promise<DeployedApp> {
  const appDir = opts.appDir ?? ROOT;
  const stack = opts.stack ?? 'EsetCloseBridge';
  const res = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir], {
    cwd: appDir,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
  });
  if (res.status !== 0) throw new Error(`cdk synth failed in ${appDir}: ${(res.stderr ?? '').slice(-2000)}`);
  const template = await readAssembly(outdir, stack);
  return {
    via: 'cdk-synth',
    ...functionsOf(template, stack, (name, assetPath) => {
      if (!assetPath) throw new Error(`the ${name} function has no asset in the template`);
      return join(outdir, assetPath);
    }),
  };
}

/**
 * The same artifacts without the CLI: the template from an in-process synth without bundling (as
 * test/infra/stack.test.ts does), the code from `bundleLambda` into `outdir/bundles/<name>`.
 */
export async function synthWithBundleLambda(outdir: string): Promise<DeployedApp> {
  const [{ App }, { EsetCloseBridgeStack }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../../infra/stack'),
  ]);
  const stack = 'EsetCloseBridge';
  const assembly = join(outdir, 'template');
  // As the CLI runs the app: construct paths in the metadata; no bundling (bundleLambda does it).
  const app = new App({
    outdir: assembly,
    context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
  });
  new EsetCloseBridgeStack(app, stack);
  app.synth();
  const template = await readAssembly(assembly, stack);
  await mkdir(join(outdir, 'bundles'), { recursive: true });
  return {
    via: 'bundle-lambda',
    ...functionsOf(template, stack, (name) => {
      const codeDir = join(outdir, 'bundles', name);
      bundleLambda(join(ROOT, FUNCTIONS[name].entry), codeDir);
      return codeDir;
    }),
  };
}
