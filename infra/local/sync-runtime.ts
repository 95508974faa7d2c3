/**
 * The ESET-to-ticket sync in the local runtime (`npm start` with `SYNC_TARGET` set): the deployed
 * sync handler on a timer every SYNC_INTERVAL_SECONDS (an EventBridge schedule in AWS), and, with
 * `SYNC_TARGET=jira` and no `JIRA_BASE_URL`, an embedded Jira stand-in whose admin webhook is
 * registered to the bridge's own `/jira` route, signed with that route's secret, so the whole
 * loop runs on this machine: incident -> issue -> resolved -> ESET closed, and back.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { BridgeOverrides } from '../../functions/bridge';
import type { Config } from '../../functions/config/config';
import { describeError } from '../../functions/errors/errors';
import { makeSyncHandler } from '../../functions/handlers/sync-handler';
import { SERVICE_NAME } from '../../functions/observability/metric-names';
import { createObservability } from '../../functions/observability/observability';
import { parseRouteSecrets } from '../../functions/senders/routes';
import { createSync } from '../../functions/sync/compose';
import type { SyncActivity, SyncReport } from '../../functions/sync/engine';
import { createJiraStandin, type JiraStandin } from './jira-standin/server';

export type { SyncActivity, SyncReport } from '../../functions/sync/engine';

type Env = Record<string, string | undefined>;

/**
 * The `/jira` route's secret when the Jira stand-in is embedded and nobody set one: public, like
 * the local webhook secret, and only ever protecting a bridge on loopback.
 */
export const LOCAL_JIRA_WEBHOOK_SECRET = 'local-jira-webhook-secret-change-me';

const isSet = (env: Env, name: string) => env[name] !== undefined && env[name] !== '';

export interface EmbeddedJira {
  standin: JiraStandin;
  /** Variables the runtime fills in for the bridge (only where unset). */
  defaults: Env;
}

/**
 * Starts the Jira stand-in when the sync targets Jira and no JIRA_BASE_URL is given, and names
 * what the bridge needs to talk to it and to hear from it: the API user, the project, the
 * bridge's own accountId (ignored on the Jira route), a `/jira` route and its secret.
 */
export async function embedJira(
  env: Env,
  opts: { localWebhookSecret: string; port?: number },
): Promise<EmbeddedJira | undefined> {
  if (env.SYNC_TARGET !== 'jira' || isSet(env, 'JIRA_BASE_URL')) return undefined;
  if (isSet(env, 'WEBHOOK_SECRET_ARN') && !isSet(env, 'WEBHOOK_SECRET')) {
    throw new Error(
      'the embedded Jira stand-in signs its webhooks with a local secret for the /jira route; ' +
        'use WEBHOOK_SECRET (not WEBHOOK_SECRET_ARN) with SYNC_TARGET=jira and no JIRA_BASE_URL',
    );
  }
  const projectKey = isSet(env, 'JIRA_PROJECT_KEY') ? (env.JIRA_PROJECT_KEY as string) : 'SEC';
  const standin = await createJiraStandin({ projectKey, ...(opts.port ? { port: opts.port } : {}) });
  try {
    const defaults: Env = {
      JIRA_BASE_URL: standin.url,
      JIRA_EMAIL: standin.apiUser.email,
      JIRA_API_TOKEN: standin.apiUser.apiToken,
      JIRA_PROJECT_KEY: projectKey,
    };
    if (!isSet(env, 'JIRA_BRIDGE_ACCOUNT_ID')) defaults.JIRA_BRIDGE_ACCOUNT_ID = standin.apiUser.accountId;
    defaults.SENDERS_CONFIG = withJiraRoute(env.SENDERS_CONFIG);
    defaults.WEBHOOK_SECRET = withJiraSecret(
      isSet(env, 'WEBHOOK_SECRET') ? (env.WEBHOOK_SECRET as string) : opts.localWebhookSecret,
    );
    return { standin, defaults };
  } catch (err) {
    await standin.close();
    throw err;
  }
}

/** SENDERS_CONFIG with a `/jira` route added when it has none. */
function withJiraRoute(value: string | undefined): string {
  if (!value?.trim()) return JSON.stringify({ routes: { '/jira': {} } });
  let parsed: { routes?: Record<string, unknown> };
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    return value; // loadConfig names the problem
  }
  const routes = parsed.routes ?? {};
  if (Object.keys(routes).some((k) => k.toLowerCase().replace(/\/+$/, '') === '/jira')) return value;
  return JSON.stringify({ ...parsed, routes: { ...routes, '/jira': {} } });
}

/** The webhook secret with the `/jira` route's local secret added when it has none. */
function withJiraSecret(value: string): string {
  const secrets: Record<string, unknown> = { ...parseRouteSecrets(value) };
  secrets['/jira'] ??= LOCAL_JIRA_WEBHOOK_SECRET;
  return JSON.stringify(secrets);
}

/** Registers the stand-in's admin webhook to the bridge's `/jira` route, signed with that route's first secret. */
export function connectJira(standin: JiraStandin, config: Config, webhookUrl: string): void {
  const source = config.webhookSecret;
  const entry = source?.kind === 'value' ? parseRouteSecrets(source.value)['/jira'] : undefined;
  const secret = typeof entry === 'string' ? entry : entry?.[0];
  if (!secret) throw new Error('no secret for the /jira route in WEBHOOK_SECRET');
  standin.registerWebhook({ url: new URL('/jira', webhookUrl).href, secret });
}

export interface LocalSync {
  intervalSeconds: number;
  target: 'jira' | 'webhook';
  /** Runs the sync handler now, as a schedule tick would; resolves to the run's report. */
  runNow(): Promise<SyncReport>;
  /** Stops the timer and waits for the run in hand. */
  stop(): Promise<void>;
}

/**
 * Runs the deployed sync handler every SYNC_INTERVAL_SECONDS. A tick while a run is in hand is
 * skipped, as the deployed function (reserved concurrency 1) drops it; `runNow` always invokes,
 * as a second schedule or a manual invocation could (the sync's lock keeps one run at a time).
 */
export function startLocalSync(opts: {
  config: Config;
  overrides: BridgeOverrides;
  logLevel?: LogLevel;
  onActivity?: (activity: SyncActivity) => void;
  onNotice?: (text: string) => void;
  /** Start the timer (off in tests, which run the sync when they want). */
  timer?: boolean;
}): LocalSync {
  const sync = opts.config.sync;
  if (!sync) throw new Error('startLocalSync needs SYNC_TARGET');
  const handler = makeSyncHandler({
    ...createObservability(),
    logger: new Logger({ serviceName: SERVICE_NAME, ...(opts.logLevel ? { logLevel: opts.logLevel } : {}) }),
    sync: createSync(opts.config, {
      ...opts.overrides,
      ...(opts.onActivity ? { onActivity: opts.onActivity } : {}),
    }),
    clock: { now: () => (opts.overrides.clock ?? { now: Date.now }).now() },
  });
  const inFlight = new Set<Promise<SyncReport>>();
  const runNow = () => {
    const run = handler(undefined, undefined);
    inFlight.add(run);
    void run.then(
      () => inFlight.delete(run),
      () => inFlight.delete(run),
    );
    return run;
  };
  let timer: NodeJS.Timeout | undefined;
  if (opts.timer !== false) {
    timer = setInterval(() => {
      if (inFlight.size > 0) return;
      runNow().catch((err: unknown) => opts.onNotice?.(`the sync run failed: ${describeError(err)}`));
    }, sync.intervalSeconds * 1000);
    timer.unref();
  }
  return {
    intervalSeconds: sync.intervalSeconds,
    target: sync.target,
    runNow,
    stop: async () => {
      if (timer) clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** One line per ticket change the sync made, in the runtime's outcome format. */
export function formatSyncActivity(a: SyncActivity, at = Date.now()): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  const what = a.kind === 'told' ? `told ${a.news}` : a.kind;
  const parts = [time, a.incidentUuid.padEnd(36), what.padEnd(13), (a.ticket ?? '').padEnd(9), '[sync]  '];
  return `${parts.join(' ')}${a.detail ? ` ${a.detail}` : ''}`.trimEnd();
}
