import * as z from 'zod/mini';
import { ConfigError } from '../errors/errors';
import { ESET_REGIONS } from '../eset/regions';
import {
  buildRouteTable,
  parseRouteSecrets,
  parseSendersConfig,
  type RouteTable,
  secretsFor,
} from '../senders/routes';
import { SYNC_ENV, type SyncConfig, syncConfigFrom } from './sync-config';
import { parseTenants, type TenantConfig, tenantFrom } from './tenants';

const intFrom = (name: string, def: number, min: number, max: number) =>
  z._default(
    z
      .pipe(
        z.string().check(z.regex(/^\d+$/, { error: `${name} must be a whole number` })),
        z.transform(Number),
      )
      .check(z.refine((n) => n >= min && n <= max, { error: `${name} must be between ${min} and ${max}` })),
    def,
  );

const optionalUrl = (name: string) =>
  z.optional(z.string().check(z.regex(/^https?:\/\/[^\s]+$/, { error: `${name} must be an http(s) URL` })));

const nonEmpty = (name: string) =>
  z.optional(z.string().check(z.minLength(1, { error: `${name} must not be empty` })));

const EnvSchema = z.object({
  ESET_REGION: z.optional(
    z.enum(ESET_REGIONS, { error: `ESET_REGION must be one of ${ESET_REGIONS.join(', ')}` }),
  ),
  ESET_API_URL: optionalUrl('ESET_API_URL'),
  ESET_AUTH_URL: optionalUrl('ESET_AUTH_URL'),
  ESET_USERNAME: nonEmpty('ESET_USERNAME'),
  ESET_PASSWORD: nonEmpty('ESET_PASSWORD'),
  ESET_CREDENTIALS_SECRET_ARN: nonEmpty('ESET_CREDENTIALS_SECRET_ARN'),
  ESET_INTEGRATION_NAME: z._default(z.string(), 'eset-close-bridge'),
  WEBHOOK_SECRET: z.optional(
    z.string().check(
      z.refine((v) => WHSEC_LIST.test(v) || v.trim().startsWith('{'), {
        error:
          'WEBHOOK_SECRET must look like whsec_<base64> (several separated by spaces during rotation), ' +
          'or be a JSON object of per-route secrets',
      }),
    ),
  ),
  WEBHOOK_SECRET_ARN: nonEmpty('WEBHOOK_SECRET_ARN'),
  RETRY_QUEUE_URL: nonEmpty('RETRY_QUEUE_URL'),
  DEAD_LETTER_QUEUE_URL: nonEmpty('DEAD_LETTER_QUEUE_URL'),
  // The receive Lambda's budget for all its ESET work: under the senders' own timeouts (~10 s).
  ESET_TIMEOUT_MS: intFrom('ESET_TIMEOUT_MS', 8000, 10, 900_000),
  // One retry-path call's wait: ESET answers 202 + response-id only after 30 s (older pages: 50 s).
  RETRY_ESET_TIMEOUT_MS: intFrom('RETRY_ESET_TIMEOUT_MS', 55_000, 10, 900_000),
  ESET_MAX_RPS: intFrom('ESET_MAX_RPS', 5, 1, 10),
  RETRY_BASE_SECONDS: intFrom('RETRY_BASE_SECONDS', 5, 0, 900),
  RETRY_MAX_DELAY_SECONDS: intFrom('RETRY_MAX_DELAY_SECONDS', 900, 0, 900),
  RETRY_MAX_AGE_SECONDS: intFrom('RETRY_MAX_AGE_SECONDS', 86_400, 1, 1_209_600),
  // ESET gives up on a request after 120 s (180 s on its error-code page): read only after that.
  ESET_SETTLE_SECONDS: intFrom('ESET_SETTLE_SECONDS', 190, 0, 900),
  PENDING_RESEND_SECONDS: intFrom('PENDING_RESEND_SECONDS', 5, 0, 300),
  WEBHOOK_TOLERANCE_SECONDS: intFrom('WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
  MAX_BODY_BYTES: intFrom('MAX_BODY_BYTES', 65_536, 1024, 1_048_576),
  SENDERS_CONFIG: nonEmpty('SENDERS_CONFIG'),
  STATE_TABLE: z.optional(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'STATE_TABLE must be a DynamoDB table name' })),
  ),
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl('AWS_ENDPOINT_URL_DYNAMODB'),
  ESET_TENANTS: nonEmpty('ESET_TENANTS'),
  // ESET's limit per API user (calls per second), shared by every process through STATE_TABLE.
  ESET_RATE_LIMIT: intFrom('ESET_RATE_LIMIT', 10, 1, 10),
  ESET_TENANT: z._default(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'ESET_TENANT must be 1-64 letters, digits, . _ -' })),
    'default',
  ),
  // The retry queue's own settings (the stack passes them): how long SQS can hold a message.
  RETRY_QUEUE_VISIBILITY_SECONDS: intFrom('RETRY_QUEUE_VISIBILITY_SECONDS', 900, 1, 43_200),
  RETRY_QUEUE_MAX_RECEIVES: intFrom('RETRY_QUEUE_MAX_RECEIVES', 5, 1, 1000),
  // The ESET-to-ticket sync (functions/config/sync-config.ts).
  ...SYNC_ENV,
});

const WHSEC = /^whsec_[A-Za-z0-9+/=]+$/;
const WHSEC_LIST = /^whsec_[A-Za-z0-9+/=]+([\s,]+whsec_[A-Za-z0-9+/=]+)*$/;

export type Credentials = { username: string; password: string };

/** Where the ESET credentials and the webhook secret come from. */
export type SecretSource<T> = { kind: 'value'; value: T } | { kind: 'secretsManager'; arn: string };

export interface Config {
  esetApiUrl: string;
  esetAuthUrl: string;
  esetIntegrationName: string;
  esetCredentials: SecretSource<Credentials>;
  webhookSecret?: SecretSource<string>;
  retryQueueUrl?: string;
  deadLetterQueueUrl?: string;
  esetTimeoutMs: number;
  retryEsetTimeoutMs: number;
  esetMaxRps: number;
  retryBaseSeconds: number;
  retryMaxDelaySeconds: number;
  retryMaxAgeSeconds: number;
  esetSettleSeconds: number;
  pendingResendSeconds: number;
  webhookToleranceSeconds: number;
  maxBodyBytes: number;
  /** Which adapter and authentication serve which path (SENDERS_CONFIG; canonical only when unset). */
  routes: RouteTable;
  /** Every ESET tenant by name; `tenant` (ESET_TENANT) is the default one, whose URLs and credentials are also above. */
  tenants: Readonly<Record<string, TenantConfig>>;
  /** ESET's calls per second per API user (ESET_RATE_LIMIT), unless a tenant says otherwise. */
  esetRateLimit: number;
  /** The DynamoDB table of incident records (STATE_TABLE), and its endpoint when not AWS's own. */
  stateTable?: { table: string; endpoint?: string };
  tenant: string;
  retryQueueVisibilitySeconds: number;
  retryQueueMaxReceives: number;
  /** The ESET-to-ticket sync, when SYNC_TARGET switches it on. */
  sync?: SyncConfig;
  /** The bridge's own Jira account (JIRA_BRIDGE_ACCOUNT_ID): the Jira routes ignore its changes. */
  jiraBridgeAccountId?: string;
}

/** What each Lambda needs beyond the common part; reported together with all other problems. */
export interface ConfigNeeds {
  webhookSecret?: boolean;
  retryQueue?: boolean;
  deadLetterQueue?: boolean;
  stateTable?: boolean;
  /** The sync Lambda: SYNC_TARGET and the target's settings. */
  sync?: boolean;
}

/**
 * Parses the environment once, at cold start. Pure: the same env gives the same config.
 * Every missing or malformed variable is named in one ConfigError, so an operator fixes
 * them all in one deploy.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  needs: ConfigNeeds = {},
): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in EnvSchema.shape && v !== undefined && v !== ''),
  );
  const problems: string[] = [];
  let parsed = z.safeParse(EnvSchema, cleaned);
  if (!parsed.success) {
    // Report the malformed names, then go on without them so the missing ones are named too.
    const bad = new Set<string>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      bad.add(name);
      problems.push(issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
    }
    parsed = z.safeParse(EnvSchema, Object.fromEntries(Object.entries(cleaned).filter(([k]) => !bad.has(k))));
    if (!parsed.success) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`, problems);
  }
  const e = parsed.data;

  // The default tenant from the top-level variables, then any others from ESET_TENANTS.
  const tenants: Record<string, TenantConfig> = {};
  const topLevel =
    e.ESET_REGION || e.ESET_API_URL || e.ESET_AUTH_URL || e.ESET_USERNAME || e.ESET_CREDENTIALS_SECRET_ARN;
  if (topLevel || !e.ESET_TENANTS) {
    const one = tenantFrom(
      e.ESET_TENANT,
      {
        ...(e.ESET_REGION ? { region: e.ESET_REGION } : {}),
        ...(e.ESET_API_URL ? { apiUrl: e.ESET_API_URL } : {}),
        ...(e.ESET_AUTH_URL ? { authUrl: e.ESET_AUTH_URL } : {}),
        ...(e.ESET_USERNAME ? { username: e.ESET_USERNAME } : {}),
        ...(e.ESET_PASSWORD ? { password: e.ESET_PASSWORD } : {}),
        ...(e.ESET_CREDENTIALS_SECRET_ARN ? { credentialsSecretArn: e.ESET_CREDENTIALS_SECRET_ARN } : {}),
      },
      {
        region: 'ESET_REGION',
        apiUrl: 'ESET_API_URL',
        authUrl: 'ESET_AUTH_URL',
        credentials: 'ESET_USERNAME and ESET_PASSWORD, or ESET_CREDENTIALS_SECRET_ARN,',
      },
      e.ESET_RATE_LIMIT,
    );
    problems.push(...one.problems);
    if (one.tenant) tenants[one.tenant.name] = one.tenant;
  }
  if (e.ESET_TENANTS) {
    const more = parseTenants(e.ESET_TENANTS, e.ESET_RATE_LIMIT);
    problems.push(...more.problems);
    for (const t of more.tenants) {
      if (tenants[t.name])
        problems.push(`ESET_TENANTS.${t.name}: defined twice (also by the ESET_* variables, ESET_TENANT)`);
      else tenants[t.name] = t;
    }
  }
  const known = Object.keys(tenants);
  if (known.length > 0 && !tenants[e.ESET_TENANT]) {
    problems.push(`ESET_TENANT names no tenant (${e.ESET_TENANT}; known: ${known.join(', ')})`);
  }

  let routes = buildRouteTable();
  // The bridge's own Jira account is ignored on every Jira route: its changes are echoes.
  const ignore = e.JIRA_BRIDGE_ACCOUNT_ID ? { ignoreActors: { jira: [e.JIRA_BRIDGE_ACCOUNT_ID] } } : {};
  if (e.SENDERS_CONFIG) {
    try {
      routes = parseSendersConfig(e.SENDERS_CONFIG, ignore);
    } catch (err) {
      problems.push(...(err as Error).message.split('; '));
    }
  }

  for (const route of routes.routes) {
    if (route.tenant && !tenants[route.tenant]) {
      problems.push(
        `SENDERS_CONFIG routes.${route.path}.tenant: unknown tenant ${route.tenant} (known: ${known.join(', ') || 'none'})`,
      );
    }
  }

  let webhookSecret: SecretSource<string> | undefined;
  if (e.WEBHOOK_SECRET) {
    webhookSecret = { kind: 'value', value: e.WEBHOOK_SECRET };
    problems.push(...localSecretProblems(e.WEBHOOK_SECRET, routes));
  } else if (e.WEBHOOK_SECRET_ARN) webhookSecret = { kind: 'secretsManager', arn: e.WEBHOOK_SECRET_ARN };
  else if (needs.webhookSecret) problems.push('WEBHOOK_SECRET or WEBHOOK_SECRET_ARN is required');

  if (needs.retryQueue && !e.RETRY_QUEUE_URL) problems.push('RETRY_QUEUE_URL is required');
  if (needs.deadLetterQueue && !e.DEAD_LETTER_QUEUE_URL) problems.push('DEAD_LETTER_QUEUE_URL is required');
  if (needs.stateTable && !e.STATE_TABLE) problems.push('STATE_TABLE is required');
  const sync = syncConfigFrom(e, needs.sync === true, problems);
  if (e.RETRY_BASE_SECONDS > e.RETRY_MAX_DELAY_SECONDS) {
    problems.push('RETRY_BASE_SECONDS must not exceed RETRY_MAX_DELAY_SECONDS');
  }

  const home = tenants[e.ESET_TENANT];
  if (problems.length > 0 || !home) {
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`, problems);
  }

  return {
    esetApiUrl: home.apiUrl,
    esetAuthUrl: home.authUrl,
    esetIntegrationName: e.ESET_INTEGRATION_NAME,
    esetCredentials: home.credentials,
    tenants,
    esetRateLimit: e.ESET_RATE_LIMIT,
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(e.RETRY_QUEUE_URL ? { retryQueueUrl: e.RETRY_QUEUE_URL } : {}),
    ...(e.DEAD_LETTER_QUEUE_URL ? { deadLetterQueueUrl: e.DEAD_LETTER_QUEUE_URL } : {}),
    esetTimeoutMs: e.ESET_TIMEOUT_MS,
    retryEsetTimeoutMs: e.RETRY_ESET_TIMEOUT_MS,
    esetMaxRps: e.ESET_MAX_RPS,
    retryBaseSeconds: e.RETRY_BASE_SECONDS,
    retryMaxDelaySeconds: e.RETRY_MAX_DELAY_SECONDS,
    retryMaxAgeSeconds: e.RETRY_MAX_AGE_SECONDS,
    esetSettleSeconds: e.ESET_SETTLE_SECONDS,
    pendingResendSeconds: e.PENDING_RESEND_SECONDS,
    webhookToleranceSeconds: e.WEBHOOK_TOLERANCE_SECONDS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    routes,
    ...(e.STATE_TABLE
      ? {
          stateTable: {
            table: e.STATE_TABLE,
            ...(e.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: e.AWS_ENDPOINT_URL_DYNAMODB } : {}),
          },
        }
      : {}),
    tenant: e.ESET_TENANT,
    retryQueueVisibilitySeconds: e.RETRY_QUEUE_VISIBILITY_SECONDS,
    retryQueueMaxReceives: e.RETRY_QUEUE_MAX_RECEIVES,
    ...(sync ? { sync } : {}),
    ...(e.JIRA_BRIDGE_ACCOUNT_ID ? { jiraBridgeAccountId: e.JIRA_BRIDGE_ACCOUNT_ID } : {}),
  };
}

/**
 * A local WEBHOOK_SECRET is checked at cold start against the routes: every route has a secret,
 * and Standard Webhooks routes have `whsec_` ones. (A Secrets Manager value is checked on first
 * use.) Problems name routes, never values.
 */
function localSecretProblems(value: string, routes: RouteTable): string[] {
  let secrets: ReturnType<typeof parseRouteSecrets>;
  try {
    secrets = parseRouteSecrets(value);
  } catch (err) {
    return [`WEBHOOK_SECRET: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  for (const route of routes.routes) {
    const list = secretsFor(route, secrets);
    if (list.length === 0) problems.push(`WEBHOOK_SECRET has no secret for route ${route.path}`);
    else if (route.auth.scheme === 'standard-webhooks' && !list.every((s) => WHSEC.test(s))) {
      problems.push(`WEBHOOK_SECRET for route ${route.path} must look like whsec_<base64>`);
    }
  }
  return problems;
}
