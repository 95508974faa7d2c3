import { BadRequestError } from '../errors/errors';
import {
  BRIDGE_COMMENT_MARKER,
  parseTicketEvent,
  type TicketAction,
  type TicketEvent,
} from '../events/ticket-event';
import {
  type ClosureReason,
  type FieldProblem,
  INCIDENT_UUID,
  MAX_COMMENT_LENGTH,
  toClosureReason,
} from '../webhook/close-request';
import { type FieldPath, parseFieldPath, scalarText, tagsAt, textAt, valueAt } from './field-path';
import { normalizeKey } from './normalize';
import { freshworksReader } from './readers/freshworks';
import { genericReader } from './readers/generic';
import { jiraReader } from './readers/jira';
import type { Reader, Reading } from './readers/reading';
import { servicenowReader } from './readers/servicenow';
import { thehiveReader } from './readers/thehive';
import { zendeskReader } from './readers/zendesk';
import {
  type AdapterName,
  GENERIC_TICKET_LABEL,
  type Locator,
  SYSTEM_DEFAULTS,
  type SystemName,
} from './systems';

export { normalizeKey };

/**
 * Adapters turn what a ticketing system sends into a ticket event (functions/events/ticket-event.ts):
 * close, reopen or comment, for one ESET incident. A system's reader (./readers/) says what
 * happened; this engine applies the route's settings (SENDERS_CONFIG, docs/senders/): where the
 * incident id, the resolution and the texts are, which comments are copied, whose changes are
 * ignored, and how the ESET comment names the sender.
 */

/** Holds when the first present field among `anyOf` equals one of `equals` (any value, if omitted). */
export interface Condition {
  anyOf: string[];
  equals?: string[];
}

/** Which ticket comments become `comment` events. */
export const COMMENT_POLICIES = ['public', 'all', 'none'] as const;
export type CommentPolicy = (typeof COMMENT_POLICIES)[number];

/** What a route may set; every key is optional and falls back to the system's default. */
export interface RouteSettings {
  incident: Locator[];
  reasonFrom: Locator[];
  /** Sender's resolution -> ESET reason; keys compare case- and punctuation-insensitively; `*` is the fallback. */
  reasons: Record<string, string>;
  /** Where a close's note is (every action's text on a generic route). */
  comment: string[];
  ticketId: string[];
  occurredAt: string[];
  actor: string[];
  eventId: string[];
  /** Each replaces the system's own recognition of that action (all conditions must hold). */
  resolvedWhen?: Condition[];
  reopenedWhen?: Condition[];
  commentedWhen?: Condition[];
  /** A ticket event without an ESET incident id: `ignore` (200 "ignored") or `reject` (400). */
  onMissingIncident: 'ignore' | 'reject';
  comments: CommentPolicy;
  /** Users whose changes are ignored (the bridge's own integration account), compared case-insensitively. */
  ignoreActors: string[];
  /** How the ESET comment names the sender. */
  label: string;
}

/** The result of adapting one payload. */
export type Adapted =
  | { kind: 'event'; event: TicketEvent }
  | { kind: 'ignore'; reason: string; ticketId?: string };

export interface Adapter {
  readonly name: AdapterName;
  /** Throws BadRequestError (400) for a payload that is malformed or names a malformed incident id. */
  adapt(value: unknown): Adapted;
}

export const IGNORED_ACTOR = "made by an ignored actor (the bridge's own account?)";
export const ECHOED_COMMENT = `the bridge's own comment (it carries ${BRIDGE_COMMENT_MARKER}): not copied back`;

type CompiledLocator =
  | { kind: 'field'; text: string; path: FieldPath }
  | { kind: 'tag'; text: string; prefix: string; in: FieldPath[] }
  | { kind: 'pattern'; text: string; regex: RegExp; in: FieldPath[] };

/** A locator and the reading it applies to: the body as sent (route settings) or the system's view. */
type Scoped = CompiledLocator & { scope: 'body' | 'view' };

interface CompiledCondition {
  anyOf: FieldPath[];
  equals?: Set<string>;
}

/** Choices of the canonical route: it names the incident itself, so only these apply. */
export type CanonicalSettings = Pick<RouteSettings, 'comments' | 'ignoreActors'>;

/** The canonical route: the body is the ticket event itself. */
export function canonicalAdapter(settings: Partial<CanonicalSettings> = {}): Adapter {
  const policy = policyOf(settings);
  return {
    name: 'canonical',
    adapt(value) {
      const parsed = parseTicketEvent(value);
      if (!parsed.ok) {
        throw new BadRequestError('Invalid ticket event', { statusCode: 400, details: parsed.problems });
      }
      const event = parsed.event;
      const withTicket = event.ticketId ? { ticketId: event.ticketId } : {};
      const refused = policy.refuse(event.action, event.actor, event.comment, false);
      return refused ? { kind: 'ignore', reason: refused, ...withTicket } : { kind: 'event', event };
    },
  };
}

const READERS: Record<SystemName | 'generic', Reader> = {
  jira: jiraReader,
  servicenow: servicenowReader,
  zendesk: zendeskReader,
  freshservice: freshworksReader,
  freshdesk: freshworksReader,
  thehive: thehiveReader,
  generic: genericReader,
};

const GENERIC_DEFAULTS = {
  displayName: 'Webhook',
  ticketLabel: GENERIC_TICKET_LABEL,
  incident: [],
  reasonFrom: [],
  reasons: { '*': 'UNSPECIFIED' },
  closeNote: [],
  ticketId: [],
} as const;

/**
 * Builds a system's (or the generic) adapter from its defaults and the route's settings. Throws an
 * Error listing every problem (bad field path, regular expression or reason), each prefixed with
 * the setting it is in, so the config loader can report it with the route's path.
 */
export function buildAdapter(system: SystemName | 'generic', settings: Partial<RouteSettings> = {}): Adapter {
  const defaults = system === 'generic' ? GENERIC_DEFAULTS : SYSTEM_DEFAULTS[system];
  const reader = READERS[system];
  const problems: string[] = [];
  const path = (text: string, where: string): FieldPath => {
    try {
      return parseFieldPath(text);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return [];
    }
  };
  const locators = (list: readonly Locator[], where: string, scope: 'body' | 'view'): Scoped[] =>
    list.map((l, i): Scoped => {
      const at = `${where}[${i}]`;
      if ('field' in l) return { scope, kind: 'field', text: l.field, path: path(l.field, at) };
      const inPaths = l.in.map((p) => path(p, `${at}.in`));
      if ('tagPrefix' in l)
        return { scope, kind: 'tag', text: l.in.join(', '), prefix: l.tagPrefix.toLowerCase(), in: inPaths };
      let regex = /$^/;
      try {
        regex = new RegExp(l.pattern, 'i');
      } catch (err) {
        problems.push(`${at}.pattern: ${(err as Error).message}`);
      }
      return { scope, kind: 'pattern', text: l.in.join(', '), regex, in: inPaths };
    });
  const paths = (list: readonly string[] | undefined, where: string, scope: 'body' | 'view') =>
    (list ?? []).map((p, i) => ({ scope, path: path(p, `${where}[${i}]`) }));
  const conditions = (list: Condition[] | undefined, where: string): CompiledCondition[] | undefined =>
    list?.map((c, i) => ({
      anyOf: c.anyOf.map((p, j) => path(p, `${where}[${i}].anyOf[${j}]`)),
      ...(c.equals ? { equals: new Set(c.equals.map(normalizeKey)) } : {}),
    }));

  // The route's locators and paths are tried before the system's; its reasons extend the table.
  const incident = [
    ...locators(settings.incident ?? [], 'incident', 'body'),
    ...locators(defaults.incident, 'incident', 'view'),
  ];
  const reasonFrom = [
    ...locators(settings.reasonFrom ?? [], 'reasonFrom', 'body'),
    ...locators(defaults.reasonFrom, 'reasonFrom', 'view'),
  ];
  const reasons = new Map<string, ClosureReason>();
  for (const [key, value] of [
    ...Object.entries(defaults.reasons),
    ...Object.entries(settings.reasons ?? {}),
  ]) {
    const reason = toClosureReason(value);
    if (!reason) {
      problems.push(`reasons.${key}: must be TRUE_POSITIVE, FALSE_POSITIVE, SUSPICIOUS or UNSPECIFIED`);
      continue;
    }
    reasons.set(key === '*' ? '*' : normalizeKey(key), reason);
  }
  const note = [
    ...paths(settings.comment, 'comment', 'body'),
    ...paths(defaults.closeNote, 'comment', 'view'),
  ];
  const ticketId = [
    ...paths(settings.ticketId, 'ticketId', 'body'),
    ...paths(defaults.ticketId, 'ticketId', 'view'),
  ];
  const occurredAt = paths(settings.occurredAt, 'occurredAt', 'body');
  const actor = paths(settings.actor, 'actor', 'body');
  const eventId = paths(settings.eventId, 'eventId', 'body');
  const when: [TicketAction, CompiledCondition[] | undefined, Condition[] | undefined][] = [
    ['close', conditions(settings.resolvedWhen, 'resolvedWhen'), settings.resolvedWhen],
    ['reopen', conditions(settings.reopenedWhen, 'reopenedWhen'), settings.reopenedWhen],
    ['comment', conditions(settings.commentedWhen, 'commentedWhen'), settings.commentedWhen],
  ];
  if (problems.length > 0) throw new Error(problems.join('; '));

  const policy = policyOf(settings);
  const label = settings.label ?? defaults.displayName;
  const onMissingIncident = settings.onMissingIncident ?? 'ignore';
  const describeIncident = [...(settings.incident ?? []), ...defaults.incident]
    .map(describeLocator)
    .join('; ');

  return {
    name: system,
    adapt(value) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BadRequestError('Invalid payload', {
          statusCode: 400,
          details: [{ path: '(body)', message: 'must be a JSON object' }],
        });
      }
      const body = value as Record<string, unknown>;
      const view = reader.view(body);
      const scoped = (scope: 'body' | 'view') => (scope === 'body' ? body : view);
      const first = (list: { scope: 'body' | 'view'; path: FieldPath }[]) => {
        for (const p of list) {
          const t = textAt(scoped(p.scope), p.path);
          if (t !== undefined) return t;
        }
        return undefined;
      };
      const ticket = first(ticketId)?.slice(0, 256);
      const withTicket = ticket ? { ticketId: ticket } : {};

      const reading = recognise(body, view, reader, when);
      if (reading.kind === 'skip') return { kind: 'ignore', reason: reading.reason, ...withTicket };
      const { action } = reading;

      const who = first(actor) ?? reading.actor;
      // A route's `comment` paths give a close's note; on a generic route, every action's text.
      const senderText =
        action === 'close'
          ? (first(note) ?? reading.text)
          : (reading.text ?? (system === 'generic' ? first(note) : undefined));
      const refused = policy.refuse(action, who, senderText, reading.internal === true);
      if (refused) return { kind: 'ignore', reason: refused, ...withTicket };
      if (action === 'comment' && senderText === undefined) {
        return { kind: 'ignore', reason: 'a comment event without comment text', ...withTicket };
      }

      const found = locateIncident(incident, scoped);
      if (!found) {
        if (onMissingIncident === 'ignore') {
          return {
            kind: 'ignore',
            reason: `no ESET incident id (looked in ${describeIncident})`,
            ...withTicket,
          };
        }
        throw new BadRequestError('No ESET incident id in the payload', {
          statusCode: 400,
          details: [
            { path: describeIncident, message: 'no ESET incident id found' },
          ] satisfies FieldProblem[],
        });
      }

      const name = `${label} ${ticket ? `${defaults.ticketLabel}${ticket}` : 'ticket'}`;
      let resolution: string | undefined;
      let closureReason: ClosureReason | undefined;
      let comment: string;
      if (action === 'close') {
        resolution = locate(reasonFrom, scoped);
        closureReason =
          (resolution !== undefined
            ? (reasons.get(normalizeKey(resolution)) ?? directReason(resolution))
            : undefined) ??
          reasons.get('*') ??
          'INCIDENT_RESOLVE_REASON_UNSPECIFIED';
        const head = `${name} resolved${resolution ? ` (${resolution})` : ''}`;
        comment = senderText ? `${head}: ${senderText}` : `${head}.`;
      } else if (action === 'reopen') {
        comment = senderText ? `${name} reopened: ${senderText}` : `${name} reopened.`;
      } else {
        comment = `${name} comment: ${senderText}`;
      }
      const time = isoTime(first(occurredAt) ?? reading.occurredAt);
      const parsed = parseTicketEvent({
        action,
        incidentUuid: found,
        ...(closureReason ? { closureReason } : {}),
        comment:
          comment.length > MAX_COMMENT_LENGTH ? `${comment.slice(0, MAX_COMMENT_LENGTH - 1)}…` : comment,
        ...withTicket,
        ...(time ? { occurredAt: time } : {}),
        ...(who ? { actor: who.slice(0, 256) } : {}),
      });
      // The canonical schema has the last word, exactly as for the canonical route.
      if (!parsed.ok) {
        throw new BadRequestError('Invalid ticket event', { statusCode: 400, details: parsed.problems });
      }
      const id = first(eventId) ?? reading.eventId;
      return { kind: 'event', event: { ...parsed.event, ...(id ? { eventId: id.slice(0, 256) } : {}) } };
    },
  };
}

/** The route's conditions first (each replaces the system's recognition of its action), then the reader. */
function recognise(
  body: Record<string, unknown>,
  view: Record<string, unknown>,
  reader: Reader,
  when: [TicketAction, CompiledCondition[] | undefined, Condition[] | undefined][],
): Reading {
  for (const [action, compiled] of when) {
    if (compiled?.every((c) => holds(body, c))) return { kind: 'event', action };
  }
  const reading = reader.read(view);
  if (reading.kind === 'event') {
    const replaced = when.find(([action, compiled]) => action === reading.action && compiled);
    if (replaced) {
      const [, compiled, raw] = replaced;
      const unmet = compiled?.findIndex((c) => !holds(body, c)) ?? -1;
      return { kind: 'skip', reason: `not a ${reading.action} event (${describe(raw?.[unmet])})` };
    }
  }
  return reading;
}

/** The route's choices about who and what is copied: ignored actors, comment visibility, echoes. */
function policyOf(settings: Partial<Pick<RouteSettings, 'comments' | 'ignoreActors'>>) {
  const comments = settings.comments ?? 'public';
  const ignored = new Set((settings.ignoreActors ?? []).map((a) => a.trim().toLowerCase()));
  return {
    /** Why an event is not passed on, or undefined when it is. */
    refuse(action: TicketAction, actor: string | undefined, text: string | undefined, internal: boolean) {
      if (actor !== undefined && ignored.has(actor.trim().toLowerCase())) return IGNORED_ACTOR;
      if (action !== 'comment') return undefined;
      if (comments === 'none') return 'comments are not copied on this route (comments: none)';
      if (internal && comments === 'public') {
        return 'an internal comment (work note, private note): not copied (comments: public)';
      }
      if (text?.includes(BRIDGE_COMMENT_MARKER)) return ECHOED_COMMENT;
      return undefined;
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

type Scope = (scope: 'body' | 'view') => unknown;

/** The first text a locator finds; for tags, the text after the prefix. */
function locate(list: Scoped[], scoped: Scope): string | undefined {
  for (const l of list) {
    const hit = candidates(scoped(l.scope), l)[0];
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

/** Keyed by payload text, so a Map: `constructor` or `__proto__` must find nothing, not Object's own. */
const ESET_REASONS = new Map<string, ClosureReason>([
  ['truepositive', 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE'],
  ['falsepositive', 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE'],
  ['suspicious', 'INCIDENT_RESOLVE_REASON_SUSPICIOUS'],
  ['unspecified', 'INCIDENT_RESOLVE_REASON_UNSPECIFIED'],
]);

/** A resolution spelled like an ESET reason in any case or punctuation: `False Positive`, `TRUE_POSITIVE`. */
function directReason(text: string): ClosureReason | undefined {
  return ESET_REASONS.get(normalizeKey(text).replace(/^incidentresolvereason/, ''));
}

const UUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const UUID_ANYWHERE = new RegExp(UUID_TEXT, 'g');

/**
 * The ESET incident id: the first locator that finds anything decides. Its text must be a UUID or
 * contain exactly one (an ESET console link is fine); anything else is a 400 naming the field.
 */
function locateIncident(list: Scoped[], scoped: Scope): string | undefined {
  for (const l of list) {
    const hit = candidates(scoped(l.scope), l)[0];
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

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * When the event happened, as RFC 3339 UTC, from what senders put in their payloads: epoch
 * milliseconds or seconds (Jira `timestamp`, TheHive dates), ISO 8601 with or without a colon in
 * the offset (Jira `+0200`), or ServiceNow's `2024-04-17 17:18:10` (UTC). Anything else: none.
 */
export function isoTime(v: unknown): string | undefined {
  let ms: number | undefined;
  const text = typeof v === 'string' ? v.trim() : undefined;
  if (typeof v === 'number' || (text !== undefined && /^\d{9,13}$/.test(text))) {
    const n = Number(v);
    ms = n >= 1e11 ? n : n * 1000;
  } else if (text !== undefined) {
    const m = DATE_TIME.exec(text);
    if (!m) return undefined;
    const [, date, time, fraction = '', zone = 'Z'] = m;
    const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
    ms = Date.parse(`${date}T${time}${fraction.slice(0, 4)}${offset}`);
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  return year >= 2000 && year <= 2200 ? d.toISOString() : undefined;
}
