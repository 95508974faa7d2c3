import { createHash } from 'node:crypto';
import type { MutatingCall } from '../eset/client';
import type { TicketAction, TicketEvent } from '../events/ticket-event';
import type { ClosureReason } from '../webhook/close-request';

/**
 * The per-incident record (docs/architecture.md, "The per-incident record"): what the tickets want of an ESET incident
 * and what the bridge last saw there, so that every step after the first close is "read, then
 * make the one call that closes the difference", and no path depends on what ESET answers to a
 * repeated call. One record per (tenant, incident), in DynamoDB, changed only by conditional
 * writes; a worker acts on an incident only while it holds the record's lease.
 */
export interface IncidentRecord {
  v: 1;
  tenant: string;
  incidentUuid: string;
  firstSeen: string;
  /** The status the latest ticket event asks for (absent while only comments arrived). */
  want?: WantedState;
  /** Comments still to post, in the ticket's order. */
  comments: QueuedComment[];
  /** Keys of the ticket events taken in, newest last (bounded): a repeated delivery is known. */
  keys: string[];
  /** ESET's status as last read, or as a call the bridge made left it. */
  eset?: { status: string; reason?: string; at: string };
  /**
   * A change whose outcome is not known: set before every call that changes the incident, so a
   * worker that dies mid-call leaves a trace. `settle`: ESET may still be working on it (no
   * answer came), so nobody reads before `since` + ESET_SETTLE_SECONDS.
   */
  unknown?: { call: MutatingCall; key: string; since: string; settle: boolean; reason: string };
  /** ESET answered 202 + response-id: re-send exactly `path` and `body` with that id. */
  pending?: PendingCall;
  /** A ticket event has not been reconciled with ESET yet. */
  dirty: boolean;
  /** How many ticket events changed the record: a worker clears `dirty` only if none came meanwhile. */
  seq: number;
  /** Who works on the incident until when; a retry worker names the wake-up it was woken by. */
  lease?: { owner: string; until: number; wake?: string };
  /** The retry message due to continue the work, and when. */
  wake?: { id: string; at: string };
  progress: Progress;
  /** The wanted status could not be reached (dead-lettered or refused): why. */
  failed?: { key: string; action: TicketAction; reason: string; status?: number; at: string };
  /** What this bridge changed at ESET for this incident (observability, tests). */
  applied: { closes: number; reopens: number; comments: number };
  /**
   * A call that may have changed the incident reached ESET (anything but a 429, a refused token, a
   * redirect or a call never sent). Until then the first close needs no read, like the fast path.
   */
  touched?: boolean;
  /** The bridge's own comments at ESET (their uuids), so they are never mirrored into a ticket. */
  ownComments?: string[];
  /**
   * Ticket accounts whose events are the bridge's own changes echoed back (the sync writes its Jira
   * account here before it changes the ticket): never acted on, however late they arrive.
   */
  echoActors?: string[];
}

export interface WantedState {
  status: 'closed' | 'open';
  reason?: ClosureReason;
  /** The close's final comment, or the reopen's comment. */
  comment?: string;
  ticketId?: string;
  /** The event's time (`occurredAt`, else its arrival): the latest event wins. */
  at: string;
  key: string;
  correlationId: string;
  /**
   * Set by the ESET-to-ticket sync: what the ticket shows because ESET changed (a close or reopen
   * in the ESET console, mirrored into the ticket). ESET is already so, and the worker never acts
   * on it; it only makes older ticket events (late echoes) stale.
   */
  mirror?: true;
}

export interface QueuedComment {
  key: string;
  text: string;
  at: string;
  ticketId?: string;
  correlationId: string;
  /**
   * An earlier try may have posted it (its outcome was unknown when its work failed, and a redrive
   * put it back in line): the incident's comments are looked at before it is posted again.
   */
  unsure?: boolean;
}

export interface PendingCall {
  call: MutatingCall;
  key: string;
  responseId: string;
  since: string;
  resends: number;
  nextAt: string;
  path: string;
  body: string;
}

export interface Progress {
  /** The retry budget runs from here: a new wanted state or a redrive starts it again. */
  budgetStart: string;
  /** Retries scheduled (the backoff's exponent). */
  attempts: number;
  /** Calls made to change the incident for the outstanding work. */
  calls?: number;
  lastStatus?: string;
  lastReason?: string;
  lastRequestId?: string;
}

/** How many event keys a record remembers: far more than senders repeat within their retry windows. */
const MAX_KEYS = 200;
/** Comments waiting for ESET at once; beyond this the sender is asked to retry later. */
export const MAX_QUEUED_COMMENTS = 25;

/**
 * The identity of a ticket event: the same delivery twice, a sender's retry and a second rule
 * sending the same event all have the same key; another comment, reason or time makes another.
 */
export function eventKey(tenant: string, event: TicketEvent): string {
  const parts = [
    tenant,
    event.action,
    event.incidentUuid,
    event.closureReason ?? '',
    event.comment ?? '',
    event.ticketId ?? '',
    event.occurredAt ?? '',
    event.eventId ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

export function newRecord(tenant: string, incidentUuid: string, now: number): IncidentRecord {
  const at = new Date(now).toISOString();
  return {
    v: 1,
    tenant,
    incidentUuid,
    firstSeen: at,
    comments: [],
    keys: [],
    dirty: false,
    seq: 0,
    progress: { budgetStart: at, attempts: 0 },
    applied: { closes: 0, reopens: 0, comments: 0 },
  };
}

export type MergeResult = 'new' | 'duplicate' | 'stale' | 'too-many-comments' | 'echo';

/**
 * Takes one ticket event into the record (pure; the caller writes it conditionally).
 * - Made by one of the record's `echoActors` (the bridge itself): `echo`, nothing changes.
 * - A key seen before: `duplicate`, nothing changes.
 * - A close or reopen older than the wanted state already taken in: `stale`, not applied.
 * - Otherwise it becomes the wanted state, or joins the comments in the ticket's order.
 */
export function mergeEvent(
  rec: IncidentRecord,
  event: TicketEvent,
  ctx: { key: string; now: number; correlationId: string },
): MergeResult {
  if (event.actor !== undefined && rec.echoActors?.includes(event.actor.trim().toLowerCase())) return 'echo';
  if (rec.keys.includes(ctx.key)) return 'duplicate';
  const wasOutstanding = outstanding(rec);
  const at = event.occurredAt ?? new Date(ctx.now).toISOString();
  if (event.action === 'comment') {
    if (rec.comments.length >= MAX_QUEUED_COMMENTS) return 'too-many-comments';
    const comment: QueuedComment = {
      key: ctx.key,
      text: event.comment ?? '',
      at,
      correlationId: ctx.correlationId,
      ...(event.ticketId ? { ticketId: event.ticketId } : {}),
    };
    // Stable insert by time: equal times keep their arrival order.
    const index = rec.comments.findIndex((c) => c.at > at);
    if (index === -1) rec.comments.push(comment);
    else rec.comments.splice(index, 0, comment);
  } else {
    if (rec.want && at < rec.want.at) {
      remember(rec, ctx.key);
      return 'stale';
    }
    rec.want = {
      status: event.action === 'close' ? 'closed' : 'open',
      ...(event.action === 'close'
        ? { reason: event.closureReason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED' }
        : {}),
      ...(event.comment ? { comment: event.comment } : {}),
      ...(event.ticketId ? { ticketId: event.ticketId } : {}),
      at,
      key: ctx.key,
      correlationId: ctx.correlationId,
    };
    rec.failed = undefined;
  }
  // A new wanted state, or work arriving when nothing was under way, starts a new retry budget.
  if (!wasOutstanding || event.action !== 'comment') {
    rec.progress = { budgetStart: new Date(ctx.now).toISOString(), attempts: 0 };
  }
  rec.dirty = true;
  rec.seq += 1;
  remember(rec, ctx.key);
  return 'new';
}

function remember(rec: IncidentRecord, key: string): void {
  rec.keys.push(key);
  if (rec.keys.length > MAX_KEYS) rec.keys.splice(0, rec.keys.length - MAX_KEYS);
}

/** Whether anything is left to do at ESET for this incident. */
export function outstanding(rec: IncidentRecord): boolean {
  return rec.dirty || rec.pending !== undefined || rec.unknown !== undefined;
}

/** The lease is free (absent, expired) or already this owner's. */
export function leaseFree(rec: IncidentRecord, owner: string, now: number): boolean {
  return !rec.lease || rec.lease.owner === owner || rec.lease.until <= now;
}

export const CLOSED = 'INCIDENT_STATUS_CLOSED';
export const OPEN = 'INCIDENT_STATUS_OPEN';
