import * as z from 'zod/mini';
import { ESET_REGIONS, type EsetRegion } from '../eset/regions';
import type { Credentials, SecretSource } from './config';

/**
 * ESET tenants: a managed-service provider's customers, or several ESET accounts, served by one
 * deployment. Each has its own API URLs, credentials, rate budget (ESET's 10 calls per second are
 * per API user), token cache and metrics dimension; routes name their tenant in SENDERS_CONFIG.
 */
export interface TenantConfig {
  name: string;
  apiUrl: string;
  authUrl: string;
  credentials: SecretSource<Credentials>;
  /** ESET's limit for this API user, calls per second (10). */
  rateLimit: number;
}

export const TENANT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const url = z.string().check(z.regex(/^https?:\/\/[^\s]+$/, { error: 'must be an http(s) URL' }));
const nonEmpty = z.string().check(z.minLength(1, { error: 'must not be empty' }));

const TenantSchema = z.strictObject({
  region: z.optional(z.enum(ESET_REGIONS, { error: `must be one of ${ESET_REGIONS.join(', ')}` })),
  apiUrl: z.optional(url),
  authUrl: z.optional(url),
  credentialsSecretArn: z.optional(nonEmpty),
  username: z.optional(nonEmpty),
  password: z.optional(nonEmpty),
  rateLimit: z.optional(
    z.int().check(z.gte(1, { error: 'must be 1 to 10' }), z.lte(10, { error: 'must be 1 to 10' })),
  ),
});

export function regionUrls(region: EsetRegion): { api: string; auth: string } {
  return {
    api: `https://${region}.incident-management.eset.systems`,
    auth: `https://${region}.business-account.iam.eset.systems`,
  };
}

const trim = (u: string) => u.replace(/\/+$/, '');

/**
 * One tenant from its parts, or the problems that keep it from being one (named after `where`,
 * never quoting a value).
 */
export function tenantFrom(
  name: string,
  parts: {
    region?: EsetRegion;
    apiUrl?: string;
    authUrl?: string;
    username?: string;
    password?: string;
    credentialsSecretArn?: string;
    rateLimit?: number;
  },
  where: { region: string; apiUrl: string; authUrl: string; credentials: string },
  defaultRateLimit: number,
): { tenant?: TenantConfig; problems: string[] } {
  const problems: string[] = [];
  const urls = parts.region ? regionUrls(parts.region) : undefined;
  const apiUrl = parts.apiUrl ?? urls?.api;
  const authUrl = parts.authUrl ?? urls?.auth;
  if (!apiUrl) problems.push(`${where.region} or ${where.apiUrl} is required`);
  if (!authUrl) problems.push(`${where.region} or ${where.authUrl} is required`);
  let credentials: SecretSource<Credentials> | undefined;
  if (parts.username && parts.password) {
    credentials = { kind: 'value', value: { username: parts.username, password: parts.password } };
  } else if (parts.credentialsSecretArn) {
    credentials = { kind: 'secretsManager', arn: parts.credentialsSecretArn };
  } else problems.push(`${where.credentials} are required`);
  if (!apiUrl || !authUrl || !credentials) return { problems };
  return {
    tenant: {
      name,
      apiUrl: trim(apiUrl),
      authUrl: trim(authUrl),
      credentials,
      rateLimit: parts.rateLimit ?? defaultRateLimit,
    },
    problems,
  };
}

/** Parses ESET_TENANTS: `{"acme":{"region":"eu","credentialsSecretArn":"arn:..."},...}`. */
export function parseTenants(
  json: string,
  defaultRateLimit: number,
): { tenants: TenantConfig[]; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { tenants: [], problems: ['ESET_TENANTS must be JSON'] };
  }
  const parsed = z.safeParse(z.record(z.string(), TenantSchema), raw);
  if (!parsed.success) {
    return {
      tenants: [],
      problems: parsed.error.issues.map(
        (i) => `ESET_TENANTS ${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
      ),
    };
  }
  const tenants: TenantConfig[] = [];
  const problems: string[] = [];
  for (const [name, t] of Object.entries(parsed.data)) {
    if (!TENANT_NAME.test(name)) {
      problems.push(`ESET_TENANTS.${name.slice(0, 64)}: tenant names are 1-64 letters, digits, . _ -`);
      continue;
    }
    const one = tenantFrom(
      name,
      t,
      {
        region: `ESET_TENANTS.${name}.region`,
        apiUrl: `ESET_TENANTS.${name}.apiUrl`,
        authUrl: `ESET_TENANTS.${name}.authUrl`,
        credentials: `ESET_TENANTS.${name}.credentialsSecretArn (or username and password)`,
      },
      defaultRateLimit,
    );
    problems.push(...one.problems);
    if (one.tenant) tenants.push(one.tenant);
  }
  return { tenants, problems };
}
