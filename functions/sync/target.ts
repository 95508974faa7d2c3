import type { SyncTargetName } from '../config/sync-config';
import { BRIDGE_COMMENT_MARKER } from '../events/ticket-event';
import type { EsetComment, EsetIncident } from './eset-incidents';
import type { FailureNotice } from './notices';

/**
 * Where the sync tells what happened at ESET: a Jira project (jira-target.ts) or any URL that
 * takes Standard Webhooks (webhook-sync-target.ts). The engine (engine.ts) decides what to tell
 * and remembers what was told; a target only knows how.
 */
export interface TicketRef {
  /** The Jira issue key; for the webhook target, the incident's UUID. */
  key: string;
}

/** A ticket found without a link (after a lost link or a restart with empty state). */
export interface FoundTicket {
  ref: TicketRef;
  /** The ticket shows the incident closed (Jira: a status in the `done` category). */
  closed: boolean;
  /** Ids of the news the ticket already carries (the note ids in the bridge's comments). */
  told: string[];
}

/** Where a change came from: ESET (a person in the console) or the ticket itself (the bridge did it for the ticket). */
export type Origin = 'eset' | 'ticket';

/** Something that happened at ESET, with an id that stays the same however often it is told. */
export type News =
  | {
      kind: 'closed';
      id: string;
      incident: EsetIncident;
      closedBy?: string;
      finalComment?: string;
      origin: Origin;
    }
  | { kind: 'reopened'; id: string; incident: EsetIncident; origin: Origin }
  | { kind: 'commented'; id: string; incident: EsetIncident; comment: EsetComment }
  | { kind: 'failed'; id: string; incidentUuid: string; notice: FailureNotice };

export interface CallContext {
  /** ms since epoch: nothing starts after it. */
  deadline: number;
}

export interface SyncTarget {
  readonly name: SyncTargetName;
  /**
   * Whether `closed` and `reopened` change the ticket's status (Jira transitions): the ticketing
   * system then reports the change back, so the engine guards the incident record against the echo.
   */
  readonly changesStatus: boolean;
  /** Whether telling the same news twice is harmless (the receiver deduplicates by id). */
  readonly repeatSafe: boolean;
  /** Once per run, before anything else: the target's own account in the ticketing system, if it has one. */
  start(ctx: CallContext): Promise<{ actor?: string }>;
  /** The incident's ticket, when one exists although the sync has no link to it. */
  find(incidentUuid: string, ctx: CallContext): Promise<FoundTicket | undefined>;
  /** Opens the ticket. Throws TargetError `unknown` when it may have been created without an answer. */
  create(incident: EsetIncident, ctx: CallContext): Promise<TicketRef>;
  /** Tells the ticket one piece of news. `unsure`: an earlier attempt may have arrived, look first. */
  tell(ref: TicketRef, news: News, ctx: CallContext & { unsure: boolean }): Promise<void>;
}

/**
 * A target call that failed: `transient` (nothing changed; try again later), `unknown` (it may
 * have been applied: look before trying again), `permanent` (the same call will fail again).
 */
export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly kind: 'transient' | 'unknown' | 'permanent',
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

/** Written into every ticket comment the bridge posts: the marker (never copied back) and the news id. */
export function noteTrailer(newsId: string): string {
  return `${BRIDGE_COMMENT_MARKER} eset-note ${newsId}`;
}

const NOTE_ID = /eset-note ([A-Za-z0-9:._-]{1,200})/g;

/** The news ids in a comment's text. */
export function noteIds(text: string): string[] {
  return [...text.matchAll(NOTE_ID)].map((m) => m[1] as string);
}

/** The link to an incident written into tickets. */
export function incidentLink(template: string, uuid: string): string {
  return template.replace('{uuid}', encodeURIComponent(uuid));
}
