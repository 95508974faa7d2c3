import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock/clock';
import type { SyncSeverity } from '../config/sync-config';
import { type EsetClient, EsetRequests } from '../eset/client';
import { BRIDGE_COMMENT_MARKER } from '../events/ticket-event';
import { type IncidentRecord, newRecord, outstanding } from '../incidents/record';
import { type IncidentStore, updateRecord } from '../incidents/store';
import { classifyRead } from '../outcomes/classify';
import type { ClosureReason } from '../webhook/close-request';
import {
  atLeast,
  CLOSED_STATUS,
  type EsetComment,
  type EsetIncident,
  isClosed,
  parseComments,
  parsePage,
} from './eset-incidents';
import type { FailureNotice, StoredNotices } from './notices';
import { type DocStore, syncIds, updateDoc } from './state';
import { type News, type SyncTarget, TargetError, type TicketRef } from './target';

/**
 * The ESET-to-ticket sync, one run per schedule (README.md, "Tickets from ESET incidents"):
 *
 * 1. Failed closes the incident workers left (notices.ts) are told to their tickets.
 * 2. ESET's incident list is read by `update_time`, from the watermark minus an overlap (ESET's
 *    list is paged by offset, so an incident changing while the pages are read can shift; the
 *    overlap reads the boundary again), at most 1000 per page, each call at the `sync` priority
 *    of the shared budget.
 * 3. Each listed incident is compared with its link (`link#<tenant>#<uuid>`): what its ticket was
 *    last told. Nothing moved: nothing to do, no ESET call. New and at or above the minimum
 *    severity, not closed: a ticket (after searching the target for one, so a lost link never
 *    makes a second). Moved: its comments are read (one ESET call) and what is new is told: a
 *    comment made in ESET by someone else than the bridge, a close, a reopen.
 * 4. The watermark is saved after each page, and after the run: the run's start when every page
 *    was read, else where it stopped; never past an incident whose news could not be told yet.
 *
 * Every step is idempotent: a news item has an id the link remembers once told, a write whose
 * outcome is unknown is marked `unsure` first (the target looks before telling again), and a
 * ticket is created only under the link's lease, after a search.
 */
export interface SyncDeps {
  eset: Pick<EsetClient, 'send'>;
  /** Incident records (functions/incidents/): what the tickets want; the echo guard of a mirrored close or reopen. */
  incidents: IncidentStore;
  docs: DocStore;
  notices: Pick<StoredNotices, 'pending' | 'remove'>;
  target: SyncTarget;
  clock: Pick<Clock, 'now'>;
  tenant: string;
  minSeverity: SyncSeverity;
  /** One ESET call's wait (the retry path's, over ESET's 30-50 s before a 202). */
  esetTimeoutMs: number;
  newId?: () => string;
  /** Incidents per list page; ESET allows at most 1000. */
  pageSize?: number;
  /** How far before the watermark each run reads again. */
  overlapMs?: number;
  /** Incidents worked on at once (each waits for the target, ESET calls are paced anyway). */
  concurrency?: number;
  /** One call per ticket change (the local runtime's lines, tests). */
  onActivity?: (activity: SyncActivity) => void;
}

export interface SyncActivity {
  kind: 'created' | 'linked' | 'told' | 'deferred' | 'retry' | 'gave-up' | 'no-ticket';
  incidentUuid: string;
  ticket?: string;
  news?: News['kind'];
  detail?: string;
}

export interface SyncReport {
  startedAt: number;
  finishedAt: number;
  /** Every page was read (the watermark moved to the run's start, unless an incident holds it). */
  complete: boolean;
  /** Why the run stopped early, when it did. */
  stoppedBy?: string;
  /** Another run held the sync's lock: this one did nothing. */
  busy?: boolean;
  watermark?: string;
  /** Seconds between the end of the run and the watermark: how far behind ESET the tickets may be. */
  lagSeconds: number;
  pages: number;
  listed: number;
  invalid: number;
  created: number;
  linked: number;
  told: { closed: number; reopened: number; commented: number; failed: number };
  /** Closes and reopens the ticket asked for itself: the ticket already shows them. */
  alreadyInTicket: number;
  unchanged: number;
  /** Below the minimum severity, or closed before it had a ticket. */
  skipped: number;
  deferred: number;
  retry: number;
  gaveUp: number;
  esetCalls: { list: number; comments: number };
}

interface LinkDoc {
  v: 1;
  target: string;
  ticket?: TicketRef;
  /** Closed (or below the minimum severity) when first seen, with no ticket to find: the update time of that sighting. */
  noneAt?: string;
  /** A ticket creation whose outcome is unknown, since when. */
  creating?: string;
  lease?: { owner: string; until: number };
  /** What the ticket was last told: ESET's update time, whether closed, the ESET comments accounted for. */
  seen: { updateTime?: string; closed: boolean; comments: string[] };
  /** Ids of the news told. */
  told: string[];
  /** News whose telling may have arrived without an answer: the target looks before telling again. */
  unsure: string[];
  failures?: { count: number; first: string; reason: string };
}

interface SyncStateDoc {
  v: 1;
  /** Every incident updated before this (ESET time, less the overlap) has been told. */
  watermark?: string;
  /** When the first run without a watermark started: the lag counts from there until one completes. */
  bootstrapSince?: string;
  /** The bridge's own ESET user(s), learnt from comments it made: never copied into tickets. */
  esetAuthors: string[];
  running?: { owner: string; until: number };
  lastRun?: Record<string, unknown>;
}

type ItemResult = 'done' | 'retry' | 'not-reached';

const PAGE_SIZE = 1000;
const OVERLAP_MS = 5 * 60_000;
const CONCURRENCY = 4;
const MAX_PAGES = 50;
/** Nothing new starts with less time than this left: a list page, or one incident's work. */
const MIN_LIST_MS = 5_000;
const MIN_ITEM_MS = 3_000;
/** One incident's lease: longer than its work (a few target calls, each at most 30 s). */
const LEASE_MS = 3 * 60_000;
/** A run's lock outlives its deadline by this: the call in hand ends, and a crashed run frees the sync soon. */
const RUN_LOCK_MARGIN_MS = 60_000;
/** After a creation without an answer, how long a search may still miss the new ticket (search is eventually consistent). */
const CREATE_SETTLE_MS = 60_000;
/** A refusal this many times over gives up the news (logged and counted), so one bad item cannot hold the watermark for ever. */
const MAX_FAILURES = 3;
const MAX_TOLD = 300;
const MAX_AUTHORS = 10;
/** Links outlive the incident's activity by this (TTL): a later change finds its ticket by searching. */
const LINK_TTL_SECONDS = 400 * 24 * 3600;

export class SyncEngine {
  private readonly newId: () => string;
  private readonly pageSize: number;
  private readonly overlapMs: number;
  private readonly concurrency: number;

  constructor(private readonly deps: SyncDeps) {
    this.newId = deps.newId ?? randomUUID;
    this.pageSize = Math.min(Math.max(deps.pageSize ?? PAGE_SIZE, 1), 1000);
    this.overlapMs = deps.overlapMs ?? OVERLAP_MS;
    this.concurrency = Math.max(1, deps.concurrency ?? CONCURRENCY);
  }

  /** One run, bounded by `deadline` (ms since epoch). */
  async run(opts: { deadline: number }): Promise<SyncReport> {
    const { clock, docs, tenant } = this.deps;
    const startedAt = clock.now();
    const report: SyncReport = {
      startedAt,
      finishedAt: startedAt,
      complete: false,
      lagSeconds: 0,
      pages: 0,
      listed: 0,
      invalid: 0,
      created: 0,
      linked: 0,
      told: { closed: 0, reopened: 0, commented: 0, failed: 0 },
      alreadyInTicket: 0,
      unchanged: 0,
      skipped: 0,
      deferred: 0,
      retry: 0,
      gaveUp: 0,
      esetCalls: { list: 0, comments: 0 },
    };
    const owner = `sync:${this.newId()}`;
    const stateId = syncIds.watermark(tenant);
    const locked = await updateDoc<SyncStateDoc>(docs, stateId, (doc) => {
      const state = doc ?? { v: 1, esetAuthors: [] };
      if (state.running && state.running.owner !== owner && state.running.until > startedAt) return undefined;
      state.running = { owner, until: opts.deadline + RUN_LOCK_MARGIN_MS };
      if (!state.watermark && !state.bootstrapSince) state.bootstrapSince = new Date(startedAt).toISOString();
      return state;
    });
    if (!locked || locked.doc.running?.owner !== owner) {
      report.busy = true;
      report.stoppedBy = 'another sync run is in progress';
      report.watermark = locked?.doc.watermark;
      return this.finish(report, locked?.doc);
    }
    const initial = locked.doc;
    const run: RunState = {
      owner,
      deadline: opts.deadline,
      authors: new Set(initial.esetAuthors),
      report,
    };
    let watermark = initial.watermark;
    try {
      try {
        run.actor = (await this.deps.target.start({ deadline: opts.deadline })).actor;
      } catch (err) {
        if (err instanceof TargetError && err.kind !== 'permanent') {
          report.stoppedBy = `the ticket target is unavailable: ${err.message}`;
          return await this.finish(report, await this.saveState(run, watermark, false));
        }
        throw err;
      }
      await this.tellNotices(run);
      watermark = await this.readList(run, initial);
      return await this.finish(report, await this.saveState(run, watermark, true));
    } catch (err) {
      await this.saveState(run, watermark, true).catch(() => undefined);
      throw err;
    }
  }

  /** Reads the list page by page and works on each incident; the watermark to keep. */
  private async readList(run: RunState, initial: SyncStateDoc): Promise<string | undefined> {
    const { clock, eset } = this.deps;
    const report = run.report;
    const startIso = new Date(report.startedAt).toISOString();
    const bootstrap = initial.watermark === undefined;
    const since = bootstrap ? undefined : Date.parse(initial.watermark as string) - this.overlapMs;
    // Without a watermark (first run, or its item lost): every incident that is not closed.
    const filter =
      since === undefined
        ? `status != "${CLOSED_STATUS}"`
        : `update_time >= timestamp("${new Date(since).toISOString()}")`;
    /** The oldest update time of an incident whose news could not all be told. */
    let hold: string | undefined;
    /** Where the run stopped: everything listed before it is handled. */
    let cut: string | undefined;
    let pageToken = '';
    let stopped = false;
    for (let page = 0; page < MAX_PAGES && !stopped; page++) {
      if (run.deadline - clock.now() < MIN_LIST_MS) {
        report.stoppedBy = 'the run ran out of time';
        break;
      }
      const answer = await eset.send(
        EsetRequests.list({ filter, orderBy: 'update_time', pageSize: this.pageSize, pageToken }),
        { deadline: run.deadline, timeoutMs: this.deps.esetTimeoutMs, priority: 'sync' },
      );
      report.esetCalls.list += 1;
      const o = classifyRead(answer, clock.now());
      if (o.kind === 'retry') {
        report.stoppedBy = `ESET: ${o.reason}`;
        break;
      }
      if (o.kind === 'rejected') throw new SyncError(`ESET refused the incident list: ${o.reason}`);
      const parsed = parsePage(o.json);
      if (!parsed) {
        report.stoppedBy = 'ESET answered 200 without an incident list';
        break;
      }
      report.pages += 1;
      report.listed += parsed.incidents.length;
      report.invalid += parsed.invalid;
      const results = await this.pool(parsed.incidents, run);
      for (const [i, result] of results.entries()) {
        const incident = parsed.incidents[i] as EsetIncident;
        if (result === 'retry') hold = minTime(hold, incident.updateTime);
        if (result === 'not-reached') {
          cut ??= incident.updateTime;
          stopped = true;
        }
      }
      if (stopped) {
        report.stoppedBy = 'the run ran out of time';
        break;
      }
      const last = parsed.incidents.at(-1)?.updateTime;
      if (last !== undefined) cut = last;
      if (parsed.next === '') {
        report.complete = true;
        break;
      }
      pageToken = parsed.next;
      // Saved as it goes: a run cut short (or killed) resumes from here.
      if (!bootstrap) await this.saveState(run, minTime(hold, cut), false);
    }
    if (report.complete) return minTime(hold, startIso);
    if (bootstrap) return undefined;
    const reached = cut ?? initial.watermark;
    return minTime(hold, reached);
  }

  private async pool(items: EsetIncident[], run: RunState): Promise<ItemResult[]> {
    const results: ItemResult[] = items.map(() => 'not-reached');
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        if (run.deadline - this.deps.clock.now() < MIN_ITEM_MS) return;
        const i = next++;
        results[i] = await this.handle(items[i] as EsetIncident, run);
      }
    };
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(this.concurrency, items.length) }, lane),
    );
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) throw failed.reason;
    return results;
  }

  /** One listed incident: create or find its ticket, then tell what is new. */
  private async handle(incident: EsetIncident, run: RunState): Promise<'done' | 'retry'> {
    const { docs, tenant } = this.deps;
    const report = run.report;
    const id = syncIds.link(tenant, incident.uuid);
    const current = await docs.get<LinkDoc>(id);
    const qualifies = atLeast(incident, this.deps.minSeverity);
    const link = current?.doc;
    if (!link?.ticket) {
      if (!qualifies || link?.noneAt === incident.updateTime) {
        report.skipped += 1;
        return 'done';
      }
    } else if (link.seen.updateTime === incident.updateTime) {
      report.unchanged += 1;
      return 'done';
    }
    const session = await this.lease(id, current, run);
    if (!session) {
      report.retry += 1;
      this.activity({ kind: 'retry', incidentUuid: incident.uuid, detail: 'another run holds the incident' });
      return 'retry';
    }
    let current_news: News | undefined;
    try {
      if (!session.doc.ticket) {
        const end = await this.ensureTicket(session, incident, qualifies, run);
        if (end) return end;
      }
      const prepared = await this.news(session, incident, run);
      if (prepared === 'retry') {
        report.retry += 1;
        return 'retry';
      }
      for (const news of prepared) {
        current_news = news;
        await this.tell(session, news, run);
      }
      current_news = undefined;
      session.doc.seen.updateTime = incident.updateTime;
      delete session.doc.failures;
      return 'done';
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      return this.failed(session, incident, current_news, err, run);
    } finally {
      delete session.doc.lease;
      await session.save();
    }
  }

  /** No ticket linked yet: find one (a lost link), or create one when the incident qualifies. */
  private async ensureTicket(
    session: LinkSession,
    incident: EsetIncident,
    qualifies: boolean,
    run: RunState,
  ): Promise<'done' | 'retry' | undefined> {
    const { clock, target } = this.deps;
    const doc = session.doc;
    const ctx = { deadline: run.deadline };
    const found = await target.find(incident.uuid, ctx);
    if (found) {
      this.adopt(doc, found);
      run.report.linked += 1;
      this.activity({ kind: 'linked', incidentUuid: incident.uuid, ticket: found.ref.key });
      await session.save();
      return undefined;
    }
    if (isClosed(incident) || !qualifies) {
      doc.noneAt = incident.updateTime;
      run.report.skipped += 1;
      return 'done';
    }
    if (doc.creating && clock.now() - Date.parse(doc.creating) < CREATE_SETTLE_MS) {
      run.report.retry += 1;
      this.activity({
        kind: 'retry',
        incidentUuid: incident.uuid,
        detail: 'an earlier creation got no answer; waiting for the search to show it',
      });
      return 'retry';
    }
    doc.creating = new Date(clock.now()).toISOString();
    await session.save();
    try {
      doc.ticket = await target.create(incident, ctx);
    } catch (err) {
      // Nothing was created unless the outcome is unknown: then the next attempt searches first.
      if (err instanceof TargetError && err.kind !== 'unknown') delete doc.creating;
      throw err;
    }
    delete doc.creating;
    delete doc.noneAt;
    doc.seen = { closed: false, comments: [] };
    doc.told = ['created'];
    run.report.created += 1;
    this.activity({ kind: 'created', incidentUuid: incident.uuid, ticket: doc.ticket.key });
    // A new incident whose update time is its creation time has no comment and no change yet
    // (saved with the lease's release).
    if (incident.createTime !== undefined && incident.createTime === incident.updateTime) {
      doc.seen.updateTime = incident.updateTime;
      return 'done';
    }
    await session.save();
    return undefined;
  }

  private adopt(doc: LinkDoc, found: { ref: TicketRef; closed: boolean; told: string[] }): void {
    doc.ticket = found.ref;
    delete doc.creating;
    delete doc.noneAt;
    doc.seen = {
      closed: found.closed,
      comments: found.told.filter((t) => t.startsWith('comment:')).map((t) => t.slice('comment:'.length)),
    };
    doc.told = [...new Set(['created', ...found.told])].slice(-MAX_TOLD);
  }

  /** What the ticket has not been told yet, oldest first: comments, then the close or reopen. */
  private async news(session: LinkSession, incident: EsetIncident, run: RunState): Promise<News[] | 'retry'> {
    const { clock, eset, incidents, tenant } = this.deps;
    const doc = session.doc;
    let comments: EsetComment[] = [];
    if (incident.createTime === undefined || incident.createTime !== incident.updateTime) {
      const answer = await eset.send(EsetRequests.comments(incident.uuid), {
        deadline: run.deadline,
        timeoutMs: this.deps.esetTimeoutMs,
        priority: 'sync',
      });
      run.report.esetCalls.comments += 1;
      const o = classifyRead(answer, clock.now());
      if (o.kind === 'retry') {
        this.activity({ kind: 'retry', incidentUuid: incident.uuid, detail: o.reason });
        return 'retry';
      }
      // Refused for good (the incident was deleted): its comments are not told, the rest is.
      comments = o.kind === 'ok' ? (parseComments(o.json) ?? []) : [];
    }
    const rec = (await incidents.get(tenant, incident.uuid))?.rec;
    const out: News[] = [];
    for (const c of comments) {
      if (c.isFinalComment === true || doc.seen.comments.includes(c.uuid)) continue;
      if (this.fromBridge(c, rec, run)) {
        remember(doc.seen.comments, c.uuid);
        continue;
      }
      out.push({ kind: 'commented', id: `comment:${c.uuid}`, incident, comment: c });
    }
    const closed = isClosed(incident);
    if (closed !== doc.seen.closed) {
      const final = closed ? comments.findLast((c) => c.isFinalComment === true) : undefined;
      if (final) this.fromBridge(final, rec, run);
      const id = `${closed ? 'closed' : 'reopened'}:${incident.updateTime}`;
      const origin = await this.guard(incident, closed ? 'closed' : 'open', id, run);
      if (origin === 'defer') {
        run.report.deferred += 1;
        this.activity({
          kind: 'deferred',
          incidentUuid: incident.uuid,
          ...(doc.ticket ? { ticket: doc.ticket.key } : {}),
          detail: 'the ticket asked for the opposite and the bridge is still working on it',
        });
      } else if (closed) {
        out.push({
          kind: 'closed',
          id,
          incident,
          origin,
          ...(final?.authorUuid ? { closedBy: final.authorUuid } : {}),
          ...(final?.text ? { finalComment: final.text } : {}),
        });
        // The final comment is told with the close; after a reopen it must not come again.
        if (final) remember(doc.seen.comments, final.uuid);
      } else {
        out.push({ kind: 'reopened', id, incident, origin });
      }
    }
    return out;
  }

  /**
   * Whether a comment is the bridge's own at ESET: one it posted (the incident record keeps their
   * uuids), one by a user known to be the bridge's, or the text of a close or reopen the bridge
   * made for the ticket. The authors of those are remembered per tenant.
   */
  private fromBridge(c: EsetComment, rec: IncidentRecord | undefined, run: RunState): boolean {
    if (c.text?.includes(BRIDGE_COMMENT_MARKER)) return true;
    const learn = () => {
      if (c.authorUuid) run.authors.add(c.authorUuid);
      return true;
    };
    if (rec?.ownComments?.includes(c.uuid)) return learn();
    if (c.authorUuid && run.authors.has(c.authorUuid)) return true;
    const w = rec?.want;
    if (w && !w.mirror && w.comment !== undefined && c.text === w.comment) {
      if (w.status === 'closed' && rec && rec.applied.closes > 0) return learn();
      if (w.status === 'open' && rec && rec.applied.reopens > 0) return learn();
    }
    return false;
  }

  /**
   * Decides, against the incident record, who a close or reopen at ESET came from, and guards the
   * ticket's echo. The ticket asked for it (the bridge did it for the ticket): `ticket`, nothing
   * to tell Jira. The ticket asks for the opposite and the bridge is still at it: `defer`. Else it
   * was done in ESET: `eset`; for a target whose status changes come back as webhooks, the record
   * first takes a mirrored wanted state (newer than any echo) and the bridge's ticket account as
   * an echo actor, so neither a prompt nor a late echo ever acts at ESET.
   */
  private async guard(
    incident: EsetIncident,
    status: 'closed' | 'open',
    newsId: string,
    run: RunState,
  ): Promise<'eset' | 'ticket' | 'defer'> {
    const { clock, incidents, target, tenant } = this.deps;
    let decision: 'eset' | 'ticket' | 'defer' = 'eset';
    await updateRecord(incidents, tenant, incident.uuid, (r) => {
      const w = r?.want;
      if (r && w && !w.mirror && !(r.failed && r.failed.key === w.key)) {
        if (w.status === status) {
          decision = 'ticket';
          return undefined;
        }
        if (outstanding(r)) {
          decision = 'defer';
          return undefined;
        }
      }
      decision = 'eset';
      if (!target.changesStatus) return undefined;
      const now = clock.now();
      const at = new Date(now).toISOString();
      const rec = r ?? newRecord(tenant, incident.uuid, now);
      const reason = status === 'closed' ? closureReason(incident.resolveReason) : undefined;
      rec.want = {
        status,
        ...(reason ? { reason } : {}),
        at,
        key: `sync:${newsId}`,
        correlationId: run.owner,
        mirror: true,
      };
      rec.eset = { status: incident.status, ...(reason ? { reason } : {}), at };
      if (run.actor) {
        const actor = run.actor.toLowerCase();
        rec.echoActors = [...new Set([...(rec.echoActors ?? []), actor])].slice(-5);
      }
      return rec;
    });
    return decision;
  }

  /**
   * Tells one piece of news, marking it unsure first where a repeat is not safe: a lost answer is
   * looked for, never repeated blindly. A close or reopen the ticket itself asked for is not told
   * to a ticket whose status the target changes: the ticket already shows it.
   */
  private async tell(session: LinkSession, news: News, run: RunState, ref?: TicketRef): Promise<void> {
    const { target } = this.deps;
    const doc = session.doc;
    const ticket = ref ?? (doc.ticket as TicketRef);
    const fromTicket = 'origin' in news && news.origin === 'ticket';
    if (fromTicket && target.changesStatus) {
      run.report.alreadyInTicket += 1;
    } else if (!doc.told.includes(news.id)) {
      const unsure = doc.unsure.includes(news.id);
      if (!unsure && !target.repeatSafe) {
        doc.unsure.push(news.id);
        await session.save();
      }
      await target.tell(ticket, news, { deadline: run.deadline, unsure });
      doc.unsure = doc.unsure.filter((u) => u !== news.id);
      remember(doc.told, news.id, MAX_TOLD);
      run.report.told[news.kind] += 1;
      this.activity({
        kind: 'told',
        incidentUuid: 'incident' in news ? news.incident.uuid : news.incidentUuid,
        ticket: ticket.key,
        news: news.kind,
        ...(fromTicket ? { detail: 'the ticket asked for it' } : {}),
      });
    }
    if (news.kind === 'commented') remember(doc.seen.comments, news.comment.uuid);
    if (news.kind === 'closed') doc.seen.closed = true;
    if (news.kind === 'reopened') doc.seen.closed = false;
    await session.save();
  }

  /** A target call failed: try again next run, or give the news up after repeated refusals. */
  private failed(
    session: LinkSession,
    incident: EsetIncident | { uuid: string; updateTime?: string },
    news: News | undefined,
    err: TargetError,
    run: RunState,
  ): 'done' | 'retry' {
    const doc = session.doc;
    const now = new Date(this.deps.clock.now()).toISOString();
    if (err.kind !== 'permanent') {
      run.report.retry += 1;
      this.activity({ kind: 'retry', incidentUuid: incident.uuid, detail: err.message });
      return 'retry';
    }
    const failures = {
      count: (doc.failures?.count ?? 0) + 1,
      first: doc.failures?.first ?? now,
      reason: err.message.slice(0, 500),
    };
    if (failures.count < MAX_FAILURES) {
      doc.failures = failures;
      run.report.retry += 1;
      this.activity({ kind: 'retry', incidentUuid: incident.uuid, detail: err.message });
      return 'retry';
    }
    // Given up: this state of the incident is not told; a later change at ESET is tried afresh.
    delete doc.failures;
    if (news) {
      remember(doc.told, news.id, MAX_TOLD);
      doc.unsure = doc.unsure.filter((u) => u !== news.id);
    }
    if (!doc.ticket && incident.updateTime) doc.noneAt = incident.updateTime;
    else if (incident.updateTime) doc.seen.updateTime = incident.updateTime;
    run.report.gaveUp += 1;
    this.activity({
      kind: 'gave-up',
      incidentUuid: incident.uuid,
      ...(news ? { news: news.kind } : {}),
      detail: `${failures.count} refusals: ${err.message}`,
    });
    return 'done';
  }

  /** The failed closes the incident workers left: told to the incident's ticket, then removed. */
  private async tellNotices(run: RunState): Promise<void> {
    const { clock, docs, notices, target, tenant } = this.deps;
    const pending = await notices.pending(tenant);
    const handled: string[] = [];
    for (const notice of pending) {
      if (run.deadline - clock.now() < MIN_ITEM_MS) break;
      const id = syncIds.link(tenant, notice.incidentUuid);
      const session = await this.lease(id, await docs.get<LinkDoc>(id), run);
      if (!session) continue;
      const news: News = {
        kind: 'failed',
        id: `failed:${notice.id}`,
        incidentUuid: notice.incidentUuid,
        notice,
      };
      try {
        if (!session.doc.ticket) {
          const found = await target.find(notice.incidentUuid, { deadline: run.deadline });
          if (found) this.adopt(session.doc, found);
        }
        // A webhook receiver hears of every failed close, ticket or not.
        const ref =
          session.doc.ticket ?? (target.name === 'webhook' ? { key: notice.incidentUuid } : undefined);
        if (ref) await this.tell(session, news, run, ref);
        else this.activity({ kind: 'no-ticket', incidentUuid: notice.incidentUuid, detail: notice.reason });
        handled.push(notice.id);
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        if (this.failedNotice(session, notice, news, err, run) === 'done') handled.push(notice.id);
      } finally {
        delete session.doc.lease;
        await session.save();
      }
    }
    await notices.remove(tenant, handled);
  }

  private failedNotice(
    session: LinkSession,
    notice: FailureNotice,
    news: News,
    err: TargetError,
    run: RunState,
  ): 'done' | 'retry' {
    return this.failed(session, { uuid: notice.incidentUuid }, news, err, run);
  }

  /** Takes the incident's link for this run; undefined while another run holds it. */
  private async lease(
    id: string,
    current: { doc: LinkDoc; rev: number } | undefined,
    run: RunState,
  ): Promise<LinkSession | undefined> {
    const now = this.deps.clock.now();
    const taken = await updateDoc<LinkDoc>(
      this.deps.docs,
      id,
      (doc) => {
        const link: LinkDoc = doc ?? {
          v: 1,
          target: this.deps.target.name,
          seen: { closed: false, comments: [] },
          told: [],
          unsure: [],
        };
        if (link.lease && link.lease.owner !== run.owner && link.lease.until > now) return undefined;
        link.lease = { owner: run.owner, until: now + LEASE_MS };
        return link;
      },
      { ttlSeconds: LINK_TTL_SECONDS, ...(current ? { cached: current } : {}) },
    );
    if (!taken || taken.doc.lease?.owner !== run.owner) return undefined;
    return new LinkSession(this.deps.docs, id, taken.doc, taken.rev);
  }

  /** Saves the watermark, the learnt authors and the run's summary; with `release`, lets the run's lock go. */
  private async saveState(
    run: RunState,
    watermark: string | undefined,
    release: boolean,
  ): Promise<SyncStateDoc | undefined> {
    const r = run.report;
    const saved = await updateDoc<SyncStateDoc>(
      this.deps.docs,
      syncIds.watermark(this.deps.tenant),
      (doc) => {
        const state = doc ?? { v: 1, esetAuthors: [] };
        if (state.running && state.running.owner !== run.owner) return undefined;
        if (watermark !== undefined) {
          state.watermark = watermark;
          delete state.bootstrapSince;
        }
        state.esetAuthors = [...new Set([...state.esetAuthors, ...run.authors])].slice(-MAX_AUTHORS);
        if (release) {
          delete state.running;
          state.lastRun = {
            startedAt: new Date(r.startedAt).toISOString(),
            complete: r.complete,
            ...(r.stoppedBy ? { stoppedBy: r.stoppedBy } : {}),
            listed: r.listed,
            created: r.created,
            told: r.told,
            retry: r.retry,
            gaveUp: r.gaveUp,
          };
        }
        return state;
      },
    );
    return saved?.doc;
  }

  private finish(report: SyncReport, state: SyncStateDoc | undefined): SyncReport {
    const now = this.deps.clock.now();
    report.finishedAt = now;
    const from = state?.watermark ?? state?.bootstrapSince;
    if (state?.watermark) report.watermark = state.watermark;
    report.lagSeconds = from ? Math.max(0, Math.round((now - Date.parse(from)) / 1000)) : 0;
    return report;
  }

  private activity(a: SyncActivity): void {
    try {
      this.deps.onActivity?.(a);
    } catch {
      // a reporting problem must not stop the sync
    }
  }
}

/** The sync failed in a way the next run will not fix by itself (ESET refused the list, a configuration error). */
export class SyncError extends Error {
  override name = 'SyncError';
}

interface RunState {
  owner: string;
  deadline: number;
  /** The bridge's account at the target (Jira accountId). */
  actor?: string;
  authors: Set<string>;
  report: SyncReport;
}

/** One incident's link while this run holds its lease: every save is conditional on the revision it read. */
class LinkSession {
  constructor(
    private readonly docs: DocStore,
    private readonly id: string,
    readonly doc: LinkDoc,
    private rev: number,
  ) {}

  async save(): Promise<void> {
    const rev = await this.docs.put(this.id, this.doc, this.rev, { ttlSeconds: LINK_TTL_SECONDS });
    if (rev === undefined) throw new SyncError(`the link ${this.id} changed under this run's lease`);
    this.rev = rev;
  }
}

function minTime(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function remember(list: string[], value: string, max = 500): void {
  if (list.includes(value)) return;
  list.push(value);
  if (list.length > max) list.splice(0, list.length - max);
}

const REASONS = new Set([
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
]);

function closureReason(reason: string | undefined): ClosureReason | undefined {
  return reason && REASONS.has(reason) ? (reason as ClosureReason) : undefined;
}
