import * as z from 'zod/mini';
import type { SecretSource } from './config';

/**
 * The ESET-to-ticket sync's variables (README.md, "Configuration"): which target, how often, from
 * which severity on, and the target's settings. Parsed with the rest of the environment by
 * `loadConfig`; the target's settings are required only where the sync runs (`needs.sync`), so
 * the receive and retry Lambdas need no Jira credentials to know the sync is on.
 */
export const SYNC_TARGETS = ['jira', 'webhook'] as const;
export type SyncTargetName = (typeof SYNC_TARGETS)[number];

/** ESET severities from which on an incident gets a ticket. */
export const SYNC_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type SyncSeverity = (typeof SYNC_SEVERITIES)[number];

export interface JiraCredentials {
  email: string;
  apiToken: string;
}

export interface SyncConfig {
  target: SyncTargetName;
  intervalSeconds: number;
  minSeverity: SyncSeverity;
  /** Link to an incident written into tickets: `{uuid}` is replaced by the incident's UUID. */
  incidentUrl?: string;
  jira?: {
    baseUrl: string;
    credentials: SecretSource<JiraCredentials>;
    projectKey: string;
    issueType: string;
    /** The bridge's own Jira account, when the operator names it: the sync checks it against `myself`. */
    bridgeAccountId?: string;
  };
  webhook?: { url: string; secret: SecretSource<string> };
}

const text = (name: string) =>
  z.optional(z.string().check(z.minLength(1, { error: `${name} must not be empty` })));

const httpUrl = (name: string) =>
  z.optional(z.string().check(z.regex(/^https?:\/\/[^\s]+$/, { error: `${name} must be an http(s) URL` })));

/** Added to the environment schema of `loadConfig`. */
export const SYNC_ENV = {
  SYNC_TARGET: z.optional(
    z.enum(SYNC_TARGETS, { error: `SYNC_TARGET must be one of ${SYNC_TARGETS.join(', ')} (or unset: off)` }),
  ),
  SYNC_INTERVAL_SECONDS: z._default(
    z
      .pipe(
        z.string().check(z.regex(/^\d+$/, { error: 'SYNC_INTERVAL_SECONDS must be a whole number' })),
        z.transform(Number),
      )
      .check(
        z.refine((n) => n >= 10 && n <= 86_400, {
          error: 'SYNC_INTERVAL_SECONDS must be between 10 and 86400',
        }),
      ),
    60,
  ),
  SYNC_MIN_SEVERITY: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((v) => v.trim().toUpperCase()),
      ),
      z.enum(SYNC_SEVERITIES, { error: `SYNC_MIN_SEVERITY must be one of ${SYNC_SEVERITIES.join(', ')}` }),
    ),
    'MEDIUM',
  ),
  SYNC_INCIDENT_URL: z.optional(
    z.string().check(
      z.regex(/^https?:\/\/[^\s]*\{uuid\}[^\s]*$/, {
        error: 'SYNC_INCIDENT_URL must be an http(s) URL containing {uuid}',
      }),
    ),
  ),
  SYNC_WEBHOOK_URL: httpUrl('SYNC_WEBHOOK_URL'),
  SYNC_WEBHOOK_SECRET: z.optional(
    z.string().check(
      z.regex(/^whsec_[A-Za-z0-9+/=]+$/, {
        error: 'SYNC_WEBHOOK_SECRET must look like whsec_<base64>',
      }),
    ),
  ),
  SYNC_WEBHOOK_SECRET_ARN: text('SYNC_WEBHOOK_SECRET_ARN'),
  JIRA_BASE_URL: httpUrl('JIRA_BASE_URL'),
  JIRA_EMAIL: text('JIRA_EMAIL'),
  JIRA_API_TOKEN: text('JIRA_API_TOKEN'),
  JIRA_CREDENTIALS_SECRET_ARN: text('JIRA_CREDENTIALS_SECRET_ARN'),
  JIRA_PROJECT_KEY: z.optional(
    z.string().check(
      z.regex(/^[A-Z][A-Z0-9_]{0,254}$/, {
        error: 'JIRA_PROJECT_KEY must be a Jira project key (upper-case letters, digits, _)',
      }),
    ),
  ),
  JIRA_ISSUE_TYPE: z._default(
    z.string().check(z.minLength(1, { error: 'JIRA_ISSUE_TYPE must not be empty' })),
    'Task',
  ),
  JIRA_BRIDGE_ACCOUNT_ID: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9:_-]{1,128}$/, { error: 'JIRA_BRIDGE_ACCOUNT_ID must be a Jira accountId' }),
      ),
  ),
} as const;

type SyncEnv = z.infer<z.ZodMiniObject<typeof SYNC_ENV>>;

/**
 * The sync's settings from the parsed environment, or undefined when SYNC_TARGET is unset.
 * Problems are pushed to `problems`; the target's settings are required only with `needed`.
 */
export function syncConfigFrom(e: SyncEnv, needed: boolean, problems: string[]): SyncConfig | undefined {
  if (!e.SYNC_TARGET) {
    if (needed) problems.push('SYNC_TARGET is required (jira or webhook)');
    return undefined;
  }
  const sync: SyncConfig = {
    target: e.SYNC_TARGET,
    intervalSeconds: e.SYNC_INTERVAL_SECONDS,
    minSeverity: e.SYNC_MIN_SEVERITY,
    ...(e.SYNC_INCIDENT_URL ? { incidentUrl: e.SYNC_INCIDENT_URL } : {}),
  };
  if (e.SYNC_TARGET === 'jira') {
    const missing: string[] = [];
    if (!e.JIRA_BASE_URL) missing.push('JIRA_BASE_URL is required with SYNC_TARGET=jira');
    if (!e.JIRA_PROJECT_KEY) missing.push('JIRA_PROJECT_KEY is required with SYNC_TARGET=jira');
    let credentials: SecretSource<JiraCredentials> | undefined;
    if (e.JIRA_EMAIL && e.JIRA_API_TOKEN) {
      credentials = { kind: 'value', value: { email: e.JIRA_EMAIL, apiToken: e.JIRA_API_TOKEN } };
    } else if (e.JIRA_CREDENTIALS_SECRET_ARN) {
      credentials = { kind: 'secretsManager', arn: e.JIRA_CREDENTIALS_SECRET_ARN };
    } else {
      missing.push(
        'JIRA_EMAIL and JIRA_API_TOKEN, or JIRA_CREDENTIALS_SECRET_ARN, are required with SYNC_TARGET=jira',
      );
    }
    if (needed) problems.push(...missing);
    if (e.JIRA_BASE_URL && e.JIRA_PROJECT_KEY && credentials) {
      sync.jira = {
        baseUrl: e.JIRA_BASE_URL.replace(/\/+$/, ''),
        credentials,
        projectKey: e.JIRA_PROJECT_KEY,
        issueType: e.JIRA_ISSUE_TYPE,
        ...(e.JIRA_BRIDGE_ACCOUNT_ID ? { bridgeAccountId: e.JIRA_BRIDGE_ACCOUNT_ID } : {}),
      };
    }
  } else {
    const missing: string[] = [];
    if (!e.SYNC_WEBHOOK_URL) missing.push('SYNC_WEBHOOK_URL is required with SYNC_TARGET=webhook');
    let secret: SecretSource<string> | undefined;
    if (e.SYNC_WEBHOOK_SECRET) secret = { kind: 'value', value: e.SYNC_WEBHOOK_SECRET };
    else if (e.SYNC_WEBHOOK_SECRET_ARN) secret = { kind: 'secretsManager', arn: e.SYNC_WEBHOOK_SECRET_ARN };
    else missing.push('SYNC_WEBHOOK_SECRET or SYNC_WEBHOOK_SECRET_ARN is required with SYNC_TARGET=webhook');
    if (
      e.SYNC_WEBHOOK_URL &&
      !/^https:|^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(e.SYNC_WEBHOOK_URL)
    ) {
      missing.push('SYNC_WEBHOOK_URL must be https (http only on loopback)');
    }
    if (needed) problems.push(...missing);
    if (e.SYNC_WEBHOOK_URL && secret && missing.length === 0)
      sync.webhook = { url: e.SYNC_WEBHOOK_URL, secret };
  }
  return sync;
}
