import { BadRequestError } from '../errors/errors';
import {
  type CloseRequest,
  type ClosureReason,
  type FieldProblem,
  INCIDENT_UUID,
  MAX_COMMENT_LENGTH,
  parseCloseRequest,
  toClosureReason,
} from '../webhook/close-request';
import { type FieldPath, parseFieldPath, scalarText, tagsAt, textAt, valueAt } from './field-path';

/**
 * Adapters turn what a ticketing system sends into the canonical close request (README.md,
 * "Webhook request"). One generic engine, driven by settings: where the ESET incident id lives,
 * where the resolution and the final comment are, and when a payload is a "resolved" event at
 * all. Each system has documented defaults (below); SENDERS_CONFIG overrides them per route.
 */
export const SYSTEMS = ['jira', 'servicenow', 'zendesk', 'freshservice', 'thehive'] as const;
export type SystemName = (typeof SYSTEMS)[number];
export const ADAPTERS = ['canonical', ...SYSTEMS] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** Where a value may be found: a field, a tag with a prefix, or a regular expression over fields. */
export type Locator =
  | { field: string }
  | { tagPrefix: string; in: string[] }
  | { pattern: string; in: string[] };

/** Holds when the first present field among `anyOf` equals one of `equals` (any value, if omitted). */
export interface Condition {
  anyOf: string[];
  equals?: string[];
}

/** What the operator may set per route; every key is optional and falls back to the system's default. */
export interface AdapterSettings {
  incident: Locator[];
  reasonFrom: Locator[];
  /** Sender's resolution -> ESET reason; keys compare case- and punctuation-insensitively; `*` is the fallback. */
  reasons: Record<string, string>;
  comment: string[];
  ticketId: string[];
  resolvedWhen: Condition[];
  /** A resolved ticket without an ESET incident id: `ignore` (200 "ignored") or `reject` (400). */
  onMissingIncident: 'ignore' | 'reject';
}

const UUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** `ESET incident: <uuid>`, `ESET incident id <uuid>`, ... in a description or summary. */
export const DEFAULT_INCIDENT_PATTERN = `ESET incident\\b[^\\n]{0,20}?(${UUID_TEXT})`;

const TRUE_POSITIVE = 'TRUE_POSITIVE';
const FALSE_POSITIVE = 'FALSE_POSITIVE';
const SUSPICIOUS = 'SUSPICIOUS';
const UNSPECIFIED = 'UNSPECIFIED';

/**
 * The documented defaults. A resolution equal to an ESET reason (`False Positive`, `TRUE_POSITIVE`,
 * `suspicious`...) maps to it without a table entry; anything unknown closes as UNSPECIFIED.
 */
export const SYSTEM_DEFAULTS: Record<
  SystemName,
  AdapterSettings & { displayName: string; ticketLabel: string }
> = {
  jira: {
    displayName: 'Jira',
    ticketLabel: '',
    incident: [
      { tagPrefix: 'eset-incident-', in: ['issue.fields.labels'] },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['issue.fields.description', 'issue.fields.summary'] },
    ],
    reasonFrom: [{ field: 'issue.fields.resolution.name' }],
    reasons: {
      Fixed: TRUE_POSITIVE,
      'Cannot Reproduce': FALSE_POSITIVE,
      'Not a Bug': FALSE_POSITIVE,
      Duplicate: UNSPECIFIED,
      '*': UNSPECIFIED,
    },
    comment: ['issue.fields.comment.comments[-1].body', 'comment.body'],
    ticketId: ['issue.key'],
    resolvedWhen: [{ anyOf: ['issue.fields.resolution.name'] }],
    onMissingIncident: 'ignore',
  },
  servicenow: {
    displayName: 'ServiceNow',
    ticketLabel: '',
    incident: [
      { field: 'u_eset_incident' },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['description', 'short_description'] },
    ],
    reasonFrom: [{ field: 'close_code' }],
    reasons: {
      // Security Incident Response close codes
      'False positive': FALSE_POSITIVE,
      'Invalid vulnerability': FALSE_POSITIVE,
      'Threat mitigated': TRUE_POSITIVE,
      'Patched vulnerability': TRUE_POSITIVE,
      'Not resolved': SUSPICIOUS,
      'Investigation completed': UNSPECIFIED,
      '*': UNSPECIFIED,
    },
    comment: ['close_notes', 'comments'],
    ticketId: ['number'],
    resolvedWhen: [{ anyOf: ['state'], equals: ['6', '7', 'Resolved', 'Closed'] }],
    onMissingIncident: 'ignore',
  },
  zendesk: {
    displayName: 'Zendesk',
    ticketLabel: 'ticket #',
    incident: [
      { field: 'ticket.eset_incident' },
      { tagPrefix: 'eset_incident_', in: ['ticket.tags', 'detail.tags'] },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['detail.description', 'detail.subject'] },
    ],
    reasonFrom: [
      { field: 'ticket.eset_resolution' },
      { tagPrefix: 'eset_reason_', in: ['ticket.tags', 'detail.tags'] },
    ],
    reasons: { '*': UNSPECIFIED },
    comment: ['ticket.resolution_comment'],
    ticketId: ['ticket.id', 'detail.id'],
    resolvedWhen: [
      { anyOf: ['ticket.status', 'event.current', 'detail.status'], equals: ['solved', 'closed'] },
    ],
    onMissingIncident: 'ignore',
  },
  freshservice: {
    displayName: 'Freshservice',
    ticketLabel: '',
    incident: [
      { field: 'freshdesk_webhook.ticket_cf_eset_incident' },
      { field: 'ticket.eset_incident' },
      { tagPrefix: 'eset-incident-', in: ['freshdesk_webhook.ticket_tags', 'ticket.tags'] },
      {
        pattern: DEFAULT_INCIDENT_PATTERN,
        in: ['freshdesk_webhook.ticket_description', 'ticket.description'],
      },
    ],
    reasonFrom: [
      { field: 'freshdesk_webhook.ticket_cf_eset_closure_reason' },
      { field: 'ticket.eset_closure_reason' },
    ],
    reasons: { '*': UNSPECIFIED },
    comment: ['freshdesk_webhook.ticket_resolution_notes', 'ticket.resolution_notes'],
    ticketId: ['freshdesk_webhook.ticket_id', 'ticket.id'],
    resolvedWhen: [
      {
        anyOf: ['freshdesk_webhook.ticket_status', 'ticket.status'],
        equals: ['Resolved', 'Closed', '4', '5'],
      },
    ],
    onMissingIncident: 'ignore',
  },
  thehive: {
    displayName: 'TheHive',
    ticketLabel: 'case #',
    incident: [
      { field: 'object.customFields.eset-incident.string' },
      { field: 'object.customFields[name=eset-incident].value' },
      { tagPrefix: 'eset-incident:', in: ['object.tags'] },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['object.description'] },
    ],
    // TheHive 4 carries the resolution in resolutionStatus, TheHive 5 in status.
    reasonFrom: [
      { field: 'details.resolutionStatus' },
      { field: 'object.resolutionStatus' },
      { field: 'details.status' },
      { field: 'object.status' },
    ],
    reasons: {
      TruePositive: TRUE_POSITIVE,
      FalsePositive: FALSE_POSITIVE,
      Indeterminate: SUSPICIOUS,
      Other: UNSPECIFIED,
      Duplicated: UNSPECIFIED,
      '*': UNSPECIFIED,
    },
    comment: ['details.summary', 'object.summary'],
    ticketId: ['object.number', 'object.caseId', 'objectId'],
    resolvedWhen: [
      { anyOf: ['objectType'], equals: ['case'] },
      { anyOf: ['operation', 'action'], equals: ['update'] },
      // TheHive 5 closes with stage Closed; TheHive 4 with status Resolved. Only `details` (what
      // changed) is consulted, so later edits of a closed case do not close it again.
      { anyOf: ['details.stage', 'details.status'], equals: ['Closed', 'Resolved'] },
    ],
    onMissingIncident: 'ignore',
  },
};

/** The result of adapting one payload. */
export type Adapted =
  | { kind: 'close'; request: CloseRequest }
  | { kind: 'ignore'; reason: string; ticketId?: string };

export interface Adapter {
  readonly name: AdapterName;
  /** Throws BadRequestError (400) for a payload that is malformed or names a malformed incident id. */
  adapt(value: unknown): Adapted;
}

type CompiledLocator =
  | { kind: 'field'; text: string; path: FieldPath }
  | { kind: 'tag'; text: string; prefix: string; in: FieldPath[] }
  | { kind: 'pattern'; text: string; regex: RegExp; in: FieldPath[] };

interface CompiledCondition {
  anyOf: FieldPath[];
  equals?: Set<string>;
}

/** Lower-case, letters and digits only: `False positive`, `FALSE_POSITIVE`, `FalsePositive` compare equal. */
export const normalizeKey = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The canonical route: the body is the close request itself. */
export const canonicalAdapter: Adapter = {
  name: 'canonical',
  adapt(value) {
    const parsed = parseCloseRequest(value);
    if (!parsed.ok) {
      throw new BadRequestError('Invalid close request', { statusCode: 400, details: parsed.problems });
    }
    return { kind: 'close', request: parsed.request };
  },
};

/**
 * Builds a system's adapter from its defaults and the route's overrides. Throws an Error listing
 * every problem (bad field path, regular expression or reason) so the config loader can report it.
 */
export function buildAdapter(system: SystemName, overrides: Partial<AdapterSettings> = {}): Adapter {
  const defaults = SYSTEM_DEFAULTS[system];
  // The route's locators and paths are tried before the system's; its reasons extend the table.
  const s: AdapterSettings = {
    ...defaults,
    ...overrides,
    incident: [...(overrides.incident ?? []), ...defaults.incident],
    reasonFrom: [...(overrides.reasonFrom ?? []), ...defaults.reasonFrom],
    comment: [...(overrides.comment ?? []), ...defaults.comment],
    ticketId: [...(overrides.ticketId ?? []), ...defaults.ticketId],
    reasons: { ...defaults.reasons, ...overrides.reasons },
  };
  const problems: string[] = [];
  const path = (text: string, where: string): FieldPath => {
    try {
      return parseFieldPath(text);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return [];
    }
  };
  const locators = (list: Locator[], where: string): CompiledLocator[] =>
    list.map((l, i): CompiledLocator => {
      const at = `${where}[${i}]`;
      if ('field' in l) return { kind: 'field', text: l.field, path: path(l.field, at) };
      const inPaths = l.in.map((p) => path(p, `${at}.in`));
      if ('tagPrefix' in l)
        return { kind: 'tag', text: l.in.join(', '), prefix: l.tagPrefix.toLowerCase(), in: inPaths };
      let regex = /$^/;
      try {
        regex = new RegExp(l.pattern, 'i');
      } catch (err) {
        problems.push(`${at}.pattern: ${(err as Error).message}`);
      }
      return { kind: 'pattern', text: l.in.join(', '), regex, in: inPaths };
    });

  const incident = locators(s.incident, 'incident');
  const reasonFrom = locators(s.reasonFrom, 'reasonFrom');
  const reasons = new Map<string, ClosureReason>();
  for (const [key, value] of Object.entries(s.reasons)) {
    const reason = toClosureReason(value);
    if (!reason) {
      problems.push(`reasons.${key}: must be TRUE_POSITIVE, FALSE_POSITIVE, SUSPICIOUS or UNSPECIFIED`);
      continue;
    }
    reasons.set(key === '*' ? '*' : normalizeKey(key), reason);
  }
  const comment = s.comment.map((p, i) => path(p, `comment[${i}]`));
  const ticketId = s.ticketId.map((p, i) => path(p, `ticketId[${i}]`));
  const resolvedWhen: CompiledCondition[] = s.resolvedWhen.map((c, i) => ({
    anyOf: c.anyOf.map((p) => path(p, `resolvedWhen[${i}].anyOf`)),
    ...(c.equals ? { equals: new Set(c.equals.map(normalizeKey)) } : {}),
  }));
  if (problems.length > 0) throw new Error(problems.join('; '));

  const first = (root: unknown, paths: FieldPath[]) => {
    for (const p of paths) {
      const t = textAt(root, p);
      if (t !== undefined) return t;
    }
    return undefined;
  };

  return {
    name: system,
    adapt(value) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BadRequestError('Invalid payload', {
          statusCode: 400,
          details: [{ path: '(body)', message: 'must be a JSON object' }],
        });
      }
      const root: object = system === 'jira' ? normalizeJira(value as Record<string, unknown>) : value;
      const ticket = first(root, ticketId)?.slice(0, 256);
      const withTicket = ticket ? { ticketId: ticket } : {};

      const unmet = resolvedWhen.findIndex((c) => !holds(root, c));
      if (unmet !== -1) {
        return {
          kind: 'ignore',
          reason: `not a resolve event (${describe(s.resolvedWhen[unmet])})`,
          ...withTicket,
        };
      }
      const skip = system === 'jira' ? jiraNotResolvedNow(root) : undefined;
      if (skip) return { kind: 'ignore', reason: skip, ...withTicket };

      const found = locateIncident(root, incident);
      if (!found) {
        const where = s.incident.map(describeLocator).join('; ');
        if (s.onMissingIncident === 'ignore') {
          return { kind: 'ignore', reason: `no ESET incident id (looked in ${where})`, ...withTicket };
        }
        throw new BadRequestError('No ESET incident id in the payload', {
          statusCode: 400,
          details: [{ path: where, message: 'no ESET incident id found' }] satisfies FieldProblem[],
        });
      }

      const resolution = locate(root, reasonFrom);
      const closureReason =
        (resolution !== undefined
          ? (reasons.get(normalizeKey(resolution)) ?? directReason(resolution))
          : undefined) ??
        reasons.get('*') ??
        'INCIDENT_RESOLVE_REASON_UNSPECIFIED';

      const note = first(root, comment);
      const label = `${defaults.displayName} ${ticket ? `${defaults.ticketLabel}${ticket}` : 'ticket'} resolved${resolution ? ` (${resolution})` : ''}`;
      const text = note ? `${label}: ${note}` : `${label}.`;
      const request: CloseRequest = {
        incidentUuid: found,
        closureReason,
        comment: text.length > MAX_COMMENT_LENGTH ? `${text.slice(0, MAX_COMMENT_LENGTH - 1)}…` : text,
        ...withTicket,
      };
      // The canonical schema has the last word, exactly as for the canonical route.
      return canonicalAdapter.adapt(request);
    },
  };
}

function holds(root: unknown, c: CompiledCondition): boolean {
  for (const p of c.anyOf) {
    const v = valueAt(root, p);
    if (v === undefined || v === null) continue;
    if (!c.equals) return true;
    const t = textAt(root, p);
    return t !== undefined && c.equals.has(normalizeKey(t));
  }
  return false;
}

const describe = (c: Condition | undefined) =>
  c ? `${c.anyOf.join(' or ')}${c.equals ? ` in [${c.equals.join(', ')}]` : ' present'}` : '';

const describeLocator = (l: Locator) =>
  'field' in l
    ? l.field
    : 'tagPrefix' in l
      ? `tags ${l.in.join(', ')} (prefix ${l.tagPrefix})`
      : `pattern over ${l.in.join(', ')}`;

/** The first text a locator finds; for tags, the text after the prefix. */
function locate(root: unknown, list: CompiledLocator[]): string | undefined {
  for (const l of list) {
    const hit = candidates(root, l)[0];
    if (hit !== undefined) return hit.value;
  }
  return undefined;
}

function candidates(root: unknown, l: CompiledLocator): { value: string; where: string }[] {
  switch (l.kind) {
    case 'field': {
      const t = textAt(root, l.path);
      return t === undefined ? [] : [{ value: t, where: l.text }];
    }
    case 'tag':
      return l.in.flatMap((p) =>
        tagsAt(root, p)
          .filter((t) => t.toLowerCase().startsWith(l.prefix) && t.length > l.prefix.length)
          .map((t) => ({ value: t.slice(l.prefix.length), where: `tag ${t}` })),
      );
    case 'pattern':
      return l.in.flatMap((p) => {
        const t = scalarText(valueAt(root, p));
        const m = t === undefined ? null : l.regex.exec(t);
        return m ? [{ value: (m[1] ?? m[0]).trim(), where: l.text }] : [];
      });
  }
}

const ESET_REASONS: Record<string, ClosureReason> = {
  truepositive: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  falsepositive: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  suspicious: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
  unspecified: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
};

/** A resolution spelled like an ESET reason in any case or punctuation: `False Positive`, `TRUE_POSITIVE`. */
function directReason(text: string): ClosureReason | undefined {
  return ESET_REASONS[normalizeKey(text).replace(/^incidentresolvereason/, '')];
}

const UUID_ANYWHERE = new RegExp(UUID_TEXT, 'g');

/**
 * The ESET incident id: the first locator that finds anything decides. Its text must be a UUID or
 * contain exactly one (an ESET console link is fine); anything else is a 400 naming the field.
 */
function locateIncident(root: unknown, list: CompiledLocator[]): string | undefined {
  for (const l of list) {
    const hit = candidates(root, l)[0];
    if (hit === undefined) continue;
    if (INCIDENT_UUID.test(hit.value)) return hit.value.toLowerCase();
    const uuids = [...new Set(hit.value.match(UUID_ANYWHERE)?.map((u) => u.toLowerCase()) ?? [])];
    if (uuids.length === 1 && uuids[0]) return uuids[0];
    throw new BadRequestError('The ESET incident id is not a UUID', {
      statusCode: 400,
      details: [
        {
          path: hit.where,
          message:
            uuids.length > 1
              ? 'holds more than one UUID'
              : 'must be an ESET incident UUID (8-4-4-4-12 hex digits)',
        },
      ] satisfies FieldProblem[],
    });
  }
  return undefined;
}

/**
 * Jira Automation's "Issue data" bodies carry the issue at the top level; admin webhooks and
 * "Issue data (Jira format)" under `issue`. Both are read as `issue.*`.
 */
function normalizeJira(body: Record<string, unknown>): Record<string, unknown> {
  if (body.issue === undefined && body.fields !== undefined && body.key !== undefined)
    return { ...body, issue: body };
  return body;
}

/**
 * A `jira:issue_updated` webhook fires on every edit. When it lists what changed, close only if the
 * resolution or status changed in this update; a comment on a long-resolved issue closes nothing.
 */
function jiraNotResolvedNow(root: object): string | undefined {
  const items = valueAt(root, parseFieldPath('changelog.items'));
  if (!Array.isArray(items) || items.length === 0) return undefined;
  const changed = items.some((i) => {
    const field = i && typeof i === 'object' ? scalarText((i as Record<string, unknown>).field) : undefined;
    return field !== undefined && ['resolution', 'status'].includes(field.toLowerCase());
  });
  return changed ? undefined : 'the update did not change the resolution or status';
}
