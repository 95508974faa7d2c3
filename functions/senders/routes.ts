import * as z from 'zod/mini';
import { AUTH_SCHEMES, type AuthSpec } from '../auth/schemes';
import {
  type Adapter,
  buildAdapter,
  type CanonicalSettings,
  COMMENT_POLICIES,
  canonicalAdapter,
  type RouteSettings,
} from './adapters';
import { ADAPTERS, type AdapterName, SYSTEM_DEFAULTS, SYSTEMS, type SystemName } from './systems';

/**
 * Routes: which adapter and which authentication serve a request path. Configured with the JSON
 * env var SENDERS_CONFIG (docs/senders/), e.g.
 * `{"routes":{"/jira":{"incident":[{"field":"issue.fields.customfield_10050"}]},"/thehive":{}}}`.
 * A route named like a system (`/jira`, `/servicenow`, `/zendesk`, `/freshservice`, `/freshdesk`,
 * `/thehive`) uses that system's adapter unless `adapter` says otherwise. `/` is always the
 * canonical route.
 */

/** The default authentication of each adapter: what the sender can do out of the box. */
export const DEFAULT_AUTH: Readonly<Record<AdapterName, AuthSpec>> = {
  canonical: { scheme: 'standard-webhooks' },
  generic: { scheme: 'basic-or-bearer' },
  ...(Object.fromEntries(SYSTEMS.map((s) => [s, SYSTEM_DEFAULTS[s].auth])) as Record<SystemName, AuthSpec>),
};

const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));
const texts = z.union([text, z.array(text)]);

const LocatorSchema = z.union([
  z.strictObject({ field: text }),
  z.strictObject({ tagPrefix: text, in: texts }),
  z.strictObject({ pattern: text, in: texts }),
]);

const ConditionsSchema = z.array(z.strictObject({ anyOf: z.array(text), equals: z.optional(z.array(text)) }));

const RouteSchema = z.strictObject({
  adapter: z.optional(z.enum(ADAPTERS, { error: `must be one of ${ADAPTERS.join(', ')}` })),
  auth: z.optional(
    z.strictObject({
      scheme: z.enum(AUTH_SCHEMES, { error: `must be one of ${AUTH_SCHEMES.join(', ')}` }),
      header: z.optional(text.check(z.regex(/^[A-Za-z0-9-]+$/, { error: 'must be a header name' }))),
    }),
  ),
  label: z.optional(text.check(z.maxLength(80, { error: 'must be at most 80 characters' }))),
  incident: z.optional(z.array(LocatorSchema)),
  reasonFrom: z.optional(z.array(LocatorSchema)),
  reasons: z.optional(z.record(z.string(), text)),
  comment: z.optional(z.array(text)),
  ticketId: z.optional(z.array(text)),
  occurredAt: z.optional(z.array(text)),
  actor: z.optional(z.array(text)),
  eventId: z.optional(z.array(text)),
  resolvedWhen: z.optional(ConditionsSchema),
  reopenedWhen: z.optional(ConditionsSchema),
  commentedWhen: z.optional(ConditionsSchema),
  onMissingIncident: z.optional(z.enum(['ignore', 'reject'], { error: 'must be ignore or reject' })),
  /** Which ESET tenant (ESET_TENANTS) this route's incidents belong to; default ESET_TENANT. */
  tenant: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be a tenant name (1-64 letters, digits, . _ -)' }),
      ),
  ),
  comments: z.optional(z.enum(COMMENT_POLICIES, { error: `must be ${COMMENT_POLICIES.join(', ')}` })),
  ignoreActors: z.optional(z.array(text)),
});
type RouteInput = z.infer<typeof RouteSchema>;

/** Settings the canonical adapter does not read: its body names the incident, reason and text. */
const NOT_CANONICAL = [
  'label',
  'incident',
  'reasonFrom',
  'reasons',
  'comment',
  'ticketId',
  'occurredAt',
  'actor',
  'eventId',
  'resolvedWhen',
  'reopenedWhen',
  'commentedWhen',
  'onMissingIncident',
] as const satisfies readonly (keyof RouteInput)[];

const ROUTE_PATH = /^\/[A-Za-z0-9._~-]*(\/[A-Za-z0-9._~-]+)*$/;

export const SendersConfigSchema = z.strictObject({
  routes: z.record(z.string(), RouteSchema),
});
export type SendersConfig = z.infer<typeof SendersConfigSchema>;

export interface Route {
  /** The configured path; also the key of the route's secret in the webhook secret. */
  readonly path: string;
  readonly adapter: Adapter;
  readonly auth: AuthSpec;
  /** The ESET tenant of this route's incidents (undefined: ESET_TENANT). */
  readonly tenant?: string;
}

export interface RouteTable {
  readonly routes: readonly Route[];
  /** The route serving a request path, or undefined (404). */
  find(requestPath: string): Route | undefined;
}

const normalizePath = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p).toLowerCase() || '/';

/**
 * Parses SENDERS_CONFIG (a JSON string) and builds the route table. Throws an Error whose message
 * lists every problem, each prefixed with where it is (`SENDERS_CONFIG routes./jira.incident[0]: ...`).
 */
export function parseSendersConfig(json: string, extra: RouteExtras = {}): RouteTable {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('SENDERS_CONFIG must be JSON');
  }
  const parsed = z.safeParse(SendersConfigSchema, raw);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues
        .map((i) => `SENDERS_CONFIG ${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
        .join('; '),
    );
  }
  return buildRouteTable(parsed.data, extra);
}

/** Settings added to the configured ones: the actors each adapter's routes ignore (the bridge's own accounts). */
export interface RouteExtras {
  ignoreActors?: Partial<Record<AdapterName, readonly string[]>>;
}

/** Builds the table from parsed settings; without any, every path is the canonical route (as before routes existed). */
export function buildRouteTable(config?: SendersConfig, extra: RouteExtras = {}): RouteTable {
  if (!config) {
    const only: Route = { path: '/', adapter: canonicalAdapter(), auth: DEFAULT_AUTH.canonical };
    return { routes: [only], find: () => only };
  }
  const problems: string[] = [];
  const byPath = new Map<string, Route>();
  byPath.set('/', { path: '/', adapter: canonicalAdapter(), auth: DEFAULT_AUTH.canonical });
  for (const [path, configured] of Object.entries(config.routes)) {
    const at = `SENDERS_CONFIG routes.${path}`;
    let input = configured;
    if (!ROUTE_PATH.test(path)) {
      problems.push(`${at}: route must be a path like /jira`);
      continue;
    }
    const key = normalizePath(path);
    const adapterName: AdapterName | undefined =
      input.adapter ?? (key === '/' ? 'canonical' : SYSTEMS.find((a) => `/${a}` === key));
    if (!adapterName) {
      problems.push(`${at}.adapter: required for a route not named after a system`);
      continue;
    }
    const ignored = extra.ignoreActors?.[adapterName];
    if (ignored?.length) input = { ...input, ignoreActors: [...(input.ignoreActors ?? []), ...ignored] };
    if (adapterName === 'canonical') {
      const misplaced = NOT_CANONICAL.filter((k) => input[k] !== undefined);
      for (const k of misplaced) {
        problems.push(
          `${at}.${k}: not read by the canonical adapter (its body is the ticket event); use "adapter": "generic" for a body of another shape`,
        );
      }
      if (misplaced.length > 0) continue;
    }
    if (adapterName === 'generic') {
      if (!input.incident) problems.push(`${at}.incident: required for the generic adapter`);
      if (!input.resolvedWhen && !input.reopenedWhen && !input.commentedWhen) {
        problems.push(
          `${at}.resolvedWhen: the generic adapter needs resolvedWhen, reopenedWhen or commentedWhen ([] holds for every body)`,
        );
        continue;
      }
    }
    try {
      const adapter =
        adapterName === 'canonical'
          ? canonicalAdapter(canonicalSettingsOf(input))
          : buildAdapter(adapterName, settingsOf(input, labelFor(path, key, adapterName, input)));
      const auth: AuthSpec = input.auth
        ? {
            scheme: input.auth.scheme,
            ...(input.auth.header ? { header: input.auth.header.toLowerCase() } : {}),
          }
        : DEFAULT_AUTH[adapterName];
      byPath.set(key, { path, adapter, auth, ...(input.tenant ? { tenant: input.tenant } : {}) });
    } catch (err) {
      problems.push(...(err as Error).message.split('; ').map((m) => `${at}.${m}`));
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  const routes = [...byPath.values()];
  return { routes, find: (requestPath) => byPath.get(normalizePath(requestPath)) };
}

/**
 * How the ESET comment names the sender: the route's `label`; else the system's display name on a
 * route named after its system (`/jira` -> "Jira"); else the route's own name (`/helpdesk` ->
 * "helpdesk"), so a route that borrows another system's adapter never writes that system's name.
 */
function labelFor(path: string, key: string, adapter: AdapterName, input: RouteInput): string {
  if (input.label) return input.label;
  const system = SYSTEMS.find((s) => s === adapter);
  if (system && key === `/${system}`) return SYSTEM_DEFAULTS[system].displayName;
  return path.replace(/^\/+/, '').replace(/\/+$/, '') || path;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

function settingsOf(input: RouteInput, label: string): Partial<RouteSettings> {
  const locators = (l: NonNullable<RouteInput['incident']>): RouteSettings['incident'] =>
    l.map((x) =>
      'field' in x
        ? { field: x.field }
        : 'tagPrefix' in x
          ? { tagPrefix: x.tagPrefix, in: list(x.in) }
          : { pattern: x.pattern, in: list(x.in) },
    );
  const conditions = (
    c: NonNullable<RouteInput['resolvedWhen']>,
  ): NonNullable<RouteSettings['resolvedWhen']> =>
    c.map((x) => ({ anyOf: x.anyOf, ...(x.equals ? { equals: x.equals } : {}) }));
  return {
    label,
    ...(input.incident ? { incident: locators(input.incident) } : {}),
    ...(input.reasonFrom ? { reasonFrom: locators(input.reasonFrom) } : {}),
    ...(input.reasons ? { reasons: input.reasons } : {}),
    ...(input.comment ? { comment: input.comment } : {}),
    ...(input.ticketId ? { ticketId: input.ticketId } : {}),
    ...(input.occurredAt ? { occurredAt: input.occurredAt } : {}),
    ...(input.actor ? { actor: input.actor } : {}),
    ...(input.eventId ? { eventId: input.eventId } : {}),
    ...(input.resolvedWhen ? { resolvedWhen: conditions(input.resolvedWhen) } : {}),
    ...(input.reopenedWhen ? { reopenedWhen: conditions(input.reopenedWhen) } : {}),
    ...(input.commentedWhen ? { commentedWhen: conditions(input.commentedWhen) } : {}),
    ...(input.onMissingIncident ? { onMissingIncident: input.onMissingIncident } : {}),
    ...canonicalSettingsOf(input),
  };
}

function canonicalSettingsOf(input: RouteInput): Partial<CanonicalSettings> {
  return {
    ...(input.comments ? { comments: input.comments } : {}),
    ...(input.ignoreActors ? { ignoreActors: input.ignoreActors } : {}),
  };
}

/**
 * The webhook secret, per route. A plain value (`whsec_...`, several separated by spaces during a
 * rotation) is the canonical route's; a JSON object maps route paths to a secret or to a list
 * `[current, previous]`: `{"/":"whsec_...","/jira":"jira-secret","/servicenow":["new","old"]}`.
 */
export type RouteSecrets = Readonly<Record<string, string | readonly string[]>>;

const RouteSecretsSchema = z.record(
  z.string(),
  z.union([text, z.array(text).check(z.minLength(1, { error: 'must not be empty' }))], {
    error: 'values must be a secret or a list of secrets',
  }),
);

/** Parses a secret value (plain or JSON); problems never quote the value. */
export function parseRouteSecrets(value: string): RouteSecrets {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return { '/': trimmed };
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new Error('webhook secret looks like JSON but does not parse');
  }
  const parsed = z.safeParse(RouteSecretsSchema, raw);
  if (!parsed.success) {
    throw new Error(`webhook secret: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const badKeys = Object.keys(parsed.data).filter((k) => !ROUTE_PATH.test(k));
  if (badKeys.length > 0)
    throw new Error(`webhook secret: keys must be route paths like /jira (got ${badKeys.length} other)`);
  return Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [normalizePath(k), v]));
}

/**
 * The secrets that authenticate a route. Standard Webhooks secrets given as one string may list
 * several `whsec_` values separated by spaces; other schemes take a string whole (a password may
 * contain spaces) and rotate with a JSON list.
 */
export function secretsFor(route: Route, secrets: RouteSecrets): readonly string[] {
  const entry = secrets[normalizePath(route.path)];
  if (entry === undefined) return [];
  if (typeof entry !== 'string') return entry;
  return route.auth.scheme === 'standard-webhooks'
    ? entry.split(/[\s,]+/).filter((s) => s.length > 0)
    : [entry];
}
