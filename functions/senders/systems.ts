import type { AuthSpec } from '../auth/schemes';

/**
 * The ticketing systems the bridge reads out of the box, and what it assumes about each one when a
 * route sets nothing: where the ESET incident id is, where the resolution and the final note are,
 * which resolution means which ESET reason, and how the sender authenticates. Every value here is
 * a default a route can extend or override in SENDERS_CONFIG (docs/senders/).
 */
export const SYSTEMS = ['jira', 'servicenow', 'zendesk', 'freshservice', 'freshdesk', 'thehive'] as const;
export type SystemName = (typeof SYSTEMS)[number];
/** `canonical`: the body is a ticket event; `generic`: any JSON, read by the route's field paths. */
export const ADAPTERS = ['canonical', 'generic', ...SYSTEMS] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** Where a value may be found: a field, a tag with a prefix, or a regular expression over fields. */
export type Locator =
  | { field: string }
  | { tagPrefix: string; in: string[] }
  | { pattern: string; in: string[] };

/** ESET's reasons by their short names, as the tables below and SENDERS_CONFIG write them. */
export type ReasonName = 'TRUE_POSITIVE' | 'FALSE_POSITIVE' | 'SUSPICIOUS' | 'UNSPECIFIED';

export interface SystemDefaults {
  /** How the ESET comment names the sender when the route sets no `label`. */
  readonly displayName: string;
  /** Written before the ticket id in the ESET comment (`ticket #35436`, `case #117`). */
  readonly ticketLabel: string;
  readonly auth: AuthSpec;
  readonly incident: readonly Locator[];
  readonly reasonFrom: readonly Locator[];
  /** Resolution -> ESET reason; keys compare case-, space- and punctuation-insensitively; `*` is the fallback. */
  readonly reasons: Readonly<Record<string, ReasonName>>;
  /** Where the note of a close is (ESET's final comment), in the system's reading of the payload. */
  readonly closeNote: readonly string[];
  readonly ticketId: readonly string[];
}

const UUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** `ESET incident: <uuid>`, `ESET incident id <uuid>`, ... in a description, summary or comment. */
export const DEFAULT_INCIDENT_PATTERN = `ESET incident\\b[^\\n]{0,20}?(${UUID_TEXT})`;

/** Freshservice and Freshdesk share their webhook shapes (read as one flat record, see freshworks.ts). */
const FRESHWORKS = {
  incident: [
    { field: 'cf_eset_incident' },
    { field: 'eset_incident' },
    { tagPrefix: 'eset-incident-', in: ['tags'] },
    { pattern: DEFAULT_INCIDENT_PATTERN, in: ['description', 'subject'] },
  ],
  reasonFrom: [{ field: 'cf_eset_closure_reason' }, { field: 'eset_closure_reason' }],
  reasons: { '*': 'UNSPECIFIED' },
  closeNote: ['resolution_notes', 'comment'],
  ticketId: ['id'],
} as const satisfies Partial<SystemDefaults>;

/**
 * The documented defaults (docs/senders/<system>.md). A resolution spelled like an ESET reason
 * (`False Positive`, `TRUE_POSITIVE`, `suspicious`) maps to it without a table entry.
 */
export const SYSTEM_DEFAULTS: Readonly<Record<SystemName, SystemDefaults>> = {
  jira: {
    displayName: 'Jira',
    ticketLabel: '',
    auth: { scheme: 'hub-signature' },
    incident: [
      { field: 'esetIncident' },
      { tagPrefix: 'eset-incident-', in: ['issue.fields.labels'] },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['issue.fields.description', 'issue.fields.summary'] },
    ],
    reasonFrom: [{ field: 'issue.fields.resolution.name' }],
    // Jira Cloud's default resolutions, then Jira Server/Data Center's. A ticket worked to "Done"
    // (Cloud) or "Fixed" (Server) had something to fix: a true positive. "Cannot Reproduce", "Not
    // a Bug" and "Declined" found nothing to act on. "Won't Do", "Won't Fix", "Duplicate" and
    // "Incomplete" say nothing about the detection itself.
    reasons: {
      Done: 'TRUE_POSITIVE',
      Fixed: 'TRUE_POSITIVE',
      'Cannot Reproduce': 'FALSE_POSITIVE',
      'Not a Bug': 'FALSE_POSITIVE',
      Declined: 'FALSE_POSITIVE',
      "Won't Do": 'UNSPECIFIED',
      "Won't Fix": 'UNSPECIFIED',
      Duplicate: 'UNSPECIFIED',
      Incomplete: 'UNSPECIFIED',
      '*': 'UNSPECIFIED',
    },
    closeNote: ['issue.fields.comment.comments[-1].body', 'comment.body'],
    ticketId: ['issue.key'],
  },
  servicenow: {
    displayName: 'ServiceNow',
    ticketLabel: '',
    auth: { scheme: 'basic-or-bearer' },
    incident: [
      { field: 'u_eset_incident' },
      { pattern: DEFAULT_INCIDENT_PATTERN, in: ['description', 'short_description'] },
    ],
    reasonFrom: [{ field: 'close_code' }],
    reasons: {
      // Security Incident Response (sn_si_incident)
      'False positive': 'FALSE_POSITIVE',
      'Invalid vulnerability': 'FALSE_POSITIVE',
      'Threat mitigated': 'TRUE_POSITIVE',
      'Patched vulnerability': 'TRUE_POSITIVE',
      'Not resolved': 'SUSPICIOUS',
      'Investigation completed': 'UNSPECIFIED',
      // Incident (before Utah): solved means something was wrong and was fixed; "not
      // reproducible" found nothing; "too costly" leaves the detection unresolved.
      'Solved (Permanently)': 'TRUE_POSITIVE',
      'Solved (Work Around)': 'TRUE_POSITIVE',
      'Solved Remotely (Permanently)': 'TRUE_POSITIVE',
      'Solved Remotely (Work Around)': 'TRUE_POSITIVE',
      'Not Solved (Not Reproducible)': 'FALSE_POSITIVE',
      'Not Solved (Too Costly)': 'SUSPICIOUS',
      'Closed/Resolved by Caller': 'UNSPECIFIED',
      // Incident (Utah and later)
      'Solution provided': 'TRUE_POSITIVE',
      'Workaround provided': 'TRUE_POSITIVE',
      'Resolved by change': 'TRUE_POSITIVE',
      'Resolved by problem': 'TRUE_POSITIVE',
      'User error': 'FALSE_POSITIVE',
      'No resolution provided': 'SUSPICIOUS',
      'Resolved by caller': 'UNSPECIFIED',
      'Resolved by request': 'UNSPECIFIED',
      'Known error': 'UNSPECIFIED',
      Duplicate: 'UNSPECIFIED',
      '*': 'UNSPECIFIED',
    },
    closeNote: ['close_notes'],
    ticketId: ['number'],
  },
  zendesk: {
    displayName: 'Zendesk',
    ticketLabel: 'ticket #',
    auth: { scheme: 'zendesk' },
    incident: [
      { field: 'ticket.eset_incident' },
      { tagPrefix: 'eset_incident_', in: ['ticket.tags', 'detail.tags'] },
      {
        pattern: DEFAULT_INCIDENT_PATTERN,
        in: ['detail.description', 'detail.subject', 'ticket.description'],
      },
    ],
    reasonFrom: [
      { field: 'ticket.eset_resolution' },
      { tagPrefix: 'eset_reason_', in: ['ticket.tags', 'detail.tags'] },
    ],
    reasons: { '*': 'UNSPECIFIED' },
    closeNote: ['ticket.resolution_comment'],
    ticketId: ['ticket.id', 'detail.id'],
  },
  freshservice: {
    displayName: 'Freshservice',
    ticketLabel: '',
    auth: { scheme: 'basic' },
    ...FRESHWORKS,
  },
  freshdesk: {
    displayName: 'Freshdesk',
    ticketLabel: 'ticket #',
    auth: { scheme: 'basic' },
    ...FRESHWORKS,
  },
  thehive: {
    displayName: 'TheHive',
    ticketLabel: 'case #',
    auth: { scheme: 'bearer' },
    incident: [
      { field: 'object.customFields.eset-incident.string' },
      { field: 'object.customFields[name=eset-incident].value' },
      { field: 'context.customFields.eset-incident.string' },
      { field: 'context.customFields[name=eset-incident].value' },
      { tagPrefix: 'eset-incident:', in: ['object.tags', 'context.tags'] },
      {
        pattern: DEFAULT_INCIDENT_PATTERN,
        in: ['object.description', 'context.description', 'object.message'],
      },
    ],
    // TheHive 4 carries the resolution in resolutionStatus, TheHive 5 in status.
    reasonFrom: [
      { field: 'details.resolutionStatus' },
      { field: 'object.resolutionStatus' },
      { field: 'details.status' },
      { field: 'object.status' },
    ],
    reasons: {
      TruePositive: 'TRUE_POSITIVE',
      FalsePositive: 'FALSE_POSITIVE',
      Indeterminate: 'SUSPICIOUS',
      Other: 'UNSPECIFIED',
      Duplicated: 'UNSPECIFIED',
      '*': 'UNSPECIFIED',
    },
    closeNote: ['details.summary', 'object.summary'],
    ticketId: ['object.number', 'context.number', 'object.caseId', 'context.caseId', 'rootId', 'objectId'],
  },
};

/** A generic route's label for tickets: `<label> ticket 1234 resolved`. */
export const GENERIC_TICKET_LABEL = 'ticket ';
