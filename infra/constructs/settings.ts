import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { parseSendersConfig } from '../../functions/senders/routes';

/** ESET Connect regions (kept in step with `functions/eset/regions.ts`). */
export const ESET_REGIONS = ['eu', 'de', 'us', 'ca', 'jpn'] as const;
export type EsetRegion = (typeof ESET_REGIONS)[number];

/** ESET Connect allows 10 requests per second per API user; the shared budget (STATE_TABLE) keeps every process together under it. */
export const ESET_RPS_LIMIT = 10;

/** Lambda's SQS event source mapping refuses a maximum concurrency below 2. */
export const MIN_SQS_MAX_CONCURRENCY = 2;

/** Deploy-time settings, read from CDK context (`cdk deploy -c name=value` or `cdk.json`). */
export interface BridgeSettings {
  /** `esetRegion`: which ESET Connect region the API user lives in. */
  readonly esetRegion: EsetRegion;
  /** `alarmEmail`: subscribe this address to the alarm topic (confirm the e-mail AWS sends). */
  readonly alarmEmail?: string;
  /** `receiveReservedConcurrency`: cap on concurrent webhook invocations; `none` leaves it unreserved. */
  readonly receiveReservedConcurrency?: number;
  /** `logRetentionDays`: retention of both log groups. */
  readonly logRetention: RetentionDays;
  /** `tracing`: X-Ray active tracing on both functions. */
  readonly tracing: boolean;
  /** `sourceMaps`: `--enable-source-maps` on every function (readable stack traces, slower cold starts). */
  readonly sourceMaps: boolean;
  /**
   * `esetTenants`: more ESET tenants besides the default one (`esetRegion`), as
   * `{"acme":{"region":"de"},"globex":{"region":"eu","rateLimit":5}}` (JSON in `cdk.json` or a string
   * on the command line). Each gets its own credentials secret, rate budget and metrics dimension.
   */
  readonly esetTenants: Readonly<Record<string, { region: EsetRegion; rateLimit?: number }>>;
  /** `retryMaxConcurrency`: retry Lambda instances the event source mapping may run at once. */
  readonly retryMaxConcurrency: number;
  /** `oldestRetryAgeAlarmSeconds`: alarm when a retry message waits longer than this. */
  readonly oldestRetryAgeAlarmSeconds: number;
  /** `rejectedAlarmThreshold`: alarm when ESET refuses this many closes within 15 minutes. */
  readonly rejectedAlarmThreshold: number;
  /**
   * `sendersConfig`: the receive Lambda's SENDERS_CONFIG (routes per ticketing system, see
   * docs/senders/README.md), as a JSON object in `cdk.json` or a JSON string on the command line;
   * checked at synth time. Unset: only the canonical route.
   */
  readonly sendersConfig?: string;
  /** The ESET-to-ticket sync (`syncTarget` and its settings); absent: no sync in the stack. */
  readonly sync?: SyncSettings;
}

/** Deploy-time settings of the ESET-to-ticket sync (README.md, "Tickets from ESET incidents"). */
export interface SyncSettings {
  /** `syncTarget`: `jira` or `webhook`. */
  readonly target: 'jira' | 'webhook';
  /** `syncIntervalSeconds`: the schedule, whole minutes (EventBridge rates are in minutes). */
  readonly intervalSeconds: number;
  /** `syncMinSeverity`: LOW, MEDIUM or HIGH. */
  readonly minSeverity: 'LOW' | 'MEDIUM' | 'HIGH';
  /** `syncIncidentUrl`: the incident link written into tickets, with `{uuid}`. */
  readonly incidentUrl?: string;
  /** `jiraBaseUrl`, `jiraProjectKey`, `jiraIssueType`, `jiraBridgeAccountId`. */
  readonly jira?: { baseUrl: string; projectKey: string; issueType: string; bridgeAccountId?: string };
  /** `syncWebhookUrl`. */
  readonly webhookUrl?: string;
}

export const DEFAULT_SETTINGS: BridgeSettings = {
  esetRegion: 'eu',
  receiveReservedConcurrency: 20,
  logRetention: RetentionDays.THREE_MONTHS,
  tracing: false,
  sourceMaps: false,
  esetTenants: {},
  retryMaxConcurrency: 2,
  oldestRetryAgeAlarmSeconds: 1800,
  rejectedAlarmThreshold: 5,
};

/**
 * Reads and checks the settings once. Context given on the command line arrives as strings,
 * from `cdk.json` or tests as JSON values; both are accepted. Every problem is reported at once.
 */
export function readSettings(node: Node): BridgeSettings {
  const problems: string[] = [];
  const get = (key: string): unknown => node.tryGetContext(key);

  const region = get('esetRegion') ?? DEFAULT_SETTINGS.esetRegion;
  if (!ESET_REGIONS.includes(region as EsetRegion)) {
    problems.push(`esetRegion must be one of ${ESET_REGIONS.join(', ')} (got ${String(region)})`);
  }

  const alarmEmail = get('alarmEmail');
  if (alarmEmail !== undefined && (typeof alarmEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(alarmEmail))) {
    problems.push(`alarmEmail must be an e-mail address (got ${String(alarmEmail)})`);
  }

  const int = (key: string, def: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined) return def;
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max} (got ${String(raw)})`);
      return def;
    }
    return n;
  };

  const reservedRaw = get('receiveReservedConcurrency');
  const receiveReservedConcurrency =
    reservedRaw === 'none' ? undefined : int('receiveReservedConcurrency', 20, 1, 1000);

  const retentionDays = int('logRetentionDays', DEFAULT_SETTINGS.logRetention, 1, 3653);
  const retentionValues = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!retentionValues.includes(retentionDays)) {
    problems.push(`logRetentionDays must be one of ${retentionValues.join(', ')} (got ${retentionDays})`);
  }

  const tracingRaw = get('tracing') ?? false;
  if (![true, false, 'true', 'false'].includes(tracingRaw as boolean | string)) {
    problems.push(`tracing must be true or false (got ${String(tracingRaw)})`);
  }
  const sourceMapsRaw = get('sourceMaps') ?? false;
  if (![true, false, 'true', 'false'].includes(sourceMapsRaw as boolean | string)) {
    problems.push(`sourceMaps must be true or false (got ${String(sourceMapsRaw)})`);
  }

  // The ESET budget is shared through the state table, so more retry instances only queue for it.
  const retryMaxConcurrency = int(
    'retryMaxConcurrency',
    DEFAULT_SETTINGS.retryMaxConcurrency,
    MIN_SQS_MAX_CONCURRENCY,
    50,
  );

  const esetTenants: Record<string, { region: EsetRegion; rateLimit?: number }> = {};
  const tenantsRaw = get('esetTenants');
  if (tenantsRaw !== undefined) {
    let value: unknown = tenantsRaw;
    if (typeof tenantsRaw === 'string') {
      try {
        value = JSON.parse(tenantsRaw);
      } catch {
        problems.push('esetTenants must be a JSON object');
        value = {};
      }
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push('esetTenants must be an object of tenants');
    } else {
      for (const [name, t] of Object.entries(value as Record<string, unknown>)) {
        const tenant = (t ?? {}) as { region?: unknown; rateLimit?: unknown };
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === 'default') {
          problems.push(
            `esetTenants.${name.slice(0, 64)}: a tenant name is 1-64 letters, digits, . _ - (and not "default")`,
          );
        } else if (!ESET_REGIONS.includes(tenant.region as EsetRegion)) {
          problems.push(`esetTenants.${name}.region must be one of ${ESET_REGIONS.join(', ')}`);
        } else if (
          tenant.rateLimit !== undefined &&
          !(
            Number.isInteger(tenant.rateLimit) &&
            (tenant.rateLimit as number) >= 1 &&
            (tenant.rateLimit as number) <= ESET_RPS_LIMIT
          )
        ) {
          problems.push(`esetTenants.${name}.rateLimit must be a whole number from 1 to ${ESET_RPS_LIMIT}`);
        } else {
          esetTenants[name] = {
            region: tenant.region as EsetRegion,
            ...(tenant.rateLimit !== undefined ? { rateLimit: tenant.rateLimit as number } : {}),
          };
        }
      }
    }
  }

  const settings: BridgeSettings = {
    esetRegion: region as EsetRegion,
    ...(typeof alarmEmail === 'string' ? { alarmEmail } : {}),
    ...(receiveReservedConcurrency !== undefined ? { receiveReservedConcurrency } : {}),
    logRetention: retentionDays as RetentionDays,
    tracing: tracingRaw === true || tracingRaw === 'true',
    sourceMaps: sourceMapsRaw === true || sourceMapsRaw === 'true',
    esetTenants,
    retryMaxConcurrency,
    oldestRetryAgeAlarmSeconds: int(
      'oldestRetryAgeAlarmSeconds',
      DEFAULT_SETTINGS.oldestRetryAgeAlarmSeconds,
      60,
      1_209_600,
    ),
    rejectedAlarmThreshold: int(
      'rejectedAlarmThreshold',
      DEFAULT_SETTINGS.rejectedAlarmThreshold,
      1,
      100_000,
    ),
  };
  const sendersRaw = get('sendersConfig');
  if (sendersRaw !== undefined) {
    const json = typeof sendersRaw === 'string' ? sendersRaw : JSON.stringify(sendersRaw);
    try {
      const table = parseSendersConfig(json);
      for (const route of table.routes) {
        if (route.tenant && route.tenant !== 'default' && !esetTenants[route.tenant]) {
          problems.push(
            `sendersConfig routes.${route.path}.tenant: unknown tenant ${route.tenant} (add it to esetTenants)`,
          );
        }
      }
      (settings as { sendersConfig?: string }).sendersConfig = json;
    } catch (err) {
      problems.push(`sendersConfig: ${(err as Error).message}`);
    }
  }
  const sync = readSyncSettings(get, int, problems);
  if (sync) (settings as { sync?: SyncSettings }).sync = sync;
  if (problems.length > 0) {
    throw new Error(`Invalid CDK context: ${problems.join('; ')}`);
  }
  return settings;
}

/** The sync's settings, checked as the sync Lambda's loadConfig would check them, at synth time. */
function readSyncSettings(
  get: (key: string) => unknown,
  int: (key: string, def: number, min: number, max: number) => number,
  problems: string[],
): SyncSettings | undefined {
  const target = get('syncTarget');
  if (target === undefined) return undefined;
  if (target !== 'jira' && target !== 'webhook') {
    problems.push(`syncTarget must be jira or webhook (got ${String(target)})`);
    return undefined;
  }
  const text = (key: string, pattern: RegExp, what: string, required: boolean): string | undefined => {
    const raw = get(key);
    if (raw === undefined) {
      if (required) problems.push(`${key} is required with syncTarget=${target}`);
      return undefined;
    }
    if (typeof raw !== 'string' || !pattern.test(raw)) {
      problems.push(`${key} must be ${what} (got ${String(raw)})`);
      return undefined;
    }
    return raw;
  };
  const intervalSeconds = int('syncIntervalSeconds', 60, 60, 86_400);
  if (intervalSeconds % 60 !== 0) {
    problems.push(`syncIntervalSeconds must be whole minutes (got ${intervalSeconds})`);
  }
  const severity = String(get('syncMinSeverity') ?? 'MEDIUM').toUpperCase();
  if (!['LOW', 'MEDIUM', 'HIGH'].includes(severity)) {
    problems.push(`syncMinSeverity must be LOW, MEDIUM or HIGH (got ${severity})`);
  }
  const incidentUrl = text(
    'syncIncidentUrl',
    /^https:\/\/\S*\{uuid\}\S*$/,
    'an https URL with {uuid}',
    false,
  );
  const sync: SyncSettings = {
    target,
    intervalSeconds,
    minSeverity: severity as SyncSettings['minSeverity'],
    ...(incidentUrl ? { incidentUrl } : {}),
  };
  if (target === 'jira') {
    const baseUrl = text(
      'jiraBaseUrl',
      /^https:\/\/[^\s/]+\/?$/,
      'an https URL like https://your-domain.atlassian.net',
      true,
    );
    const projectKey = text('jiraProjectKey', /^[A-Z][A-Z0-9_]{0,254}$/, 'a Jira project key', true);
    const issueType = text('jiraIssueType', /^\S.{0,59}$/, 'an issue type name', false) ?? 'Task';
    const bridgeAccountId = text('jiraBridgeAccountId', /^[A-Za-z0-9:_-]{1,128}$/, 'a Jira accountId', false);
    if (baseUrl && projectKey) {
      return {
        ...sync,
        jira: { baseUrl, projectKey, issueType, ...(bridgeAccountId ? { bridgeAccountId } : {}) },
      };
    }
    return undefined;
  }
  const webhookUrl = text('syncWebhookUrl', /^https:\/\/\S+$/, 'an https URL', true);
  return webhookUrl ? { ...sync, webhookUrl } : undefined;
}
