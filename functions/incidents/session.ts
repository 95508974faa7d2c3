import type { Clock } from '../clock/clock';
import type { EsetAnswer } from '../eset/answer';
import { type EsetClient, EsetRequests, type MutatingCall } from '../eset/client';
import type { TicketAction } from '../events/ticket-event';
import { answerLabel, classifyChange, classifyRead } from '../outcomes/classify';
import { backoffSeconds, RESPONSE_CACHE_WINDOW_MS, resendDelaySeconds } from '../retry-queue/backoff';
import type { ClosureReason } from '../webhook/close-request';
import { CLOSED, type IncidentRecord, OPEN, outstanding, type QueuedComment } from './record';
import { type IncidentStore, updateRecord, type Versioned } from './store';

export interface ReconcilePolicy {
  baseSeconds: number;
  maxDelaySeconds: number;
  /** After a call that got no answer, ESET may still apply it for this long (its 120-180 s window). */
  settleSeconds: number;
  /** First delay before a `response-id` re-send (then x1.5, at most 60 s). */
  pendingResendSeconds: number;
  /** The retry budget: outstanding work older than this is dead-lettered. */
  maxAgeSeconds: number;
}

/** The ESET client of a tenant: its own API user, token cache and rate budget. */
export type EsetFor = (tenant: string) => Pick<EsetClient, 'send'> & Partial<Pick<EsetClient, 'reserve'>>;

export interface ReconcileDeps {
  eset: EsetFor;
  store: IncidentStore;
  clock: Pick<Clock, 'now'>;
  random: () => number;
  policy: ReconcilePolicy;
}

export interface SessionOptions {
  /** Who holds the lease: every write checks it. */
  owner: string;
  /** No ESET call starts after this (ms since epoch). */
  deadline: number;
  /** One call's longest wait for ESET (over its documented 30-50 s on the retry path). */
  callTimeoutMs: number;
  /** A call starts only with at least this much of the deadline left. */
  minCallMs: number;
  /** The first close ever sent for the incident (the record was just created): no read first. */
  fast?: boolean;
  /** Dead-letter outstanding work older than the retry budget (the retry path). */
  checkBudget?: boolean;
}

/** Something this session changed at ESET, or found already as wanted. */
export interface Effect {
  call: MutatingCall;
  key: string;
  how: 'applied' | 'retrieved' | 'already';
}

/** Work ESET refused for good, or that ran out of budget: it goes to the dead-letter queue. */
export interface Failure {
  action: TicketAction;
  key: string;
  reason: string;
  status?: number;
  /** A failed comment's text travels with its dead letter, so a redrive can post it. */
  comment?: QueuedComment;
}

export type SessionEnd =
  | { kind: 'done' }
  | {
      kind: 'wait';
      at: number;
      why: 'pending' | 'retry' | 'unknown' | 'time';
      reason?: string;
      authFailure?: boolean;
    };

export type Mutation = (rec: IncidentRecord) => void;

/** The lease moved to another worker: this one stops without touching the record again. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const CACHE_MARGIN_MS = 30_000;
const MAX_STEPS = 12;

/**
 * One worker's turn with one incident, holding its lease: read ESET, compare with what the
 * tickets want, make the one call that closes the difference, and repeat until nothing is left,
 * time runs out, or ESET asks to wait. Before every call that changes the incident the record
 * says so (`unknown`), so a worker that dies mid-call makes the next one wait for ESET to settle
 * and read, never repeat blindly.
 */
export class Session {
  readonly effects: Effect[] = [];
  readonly failures: Failure[] = [];
  private rec: IncidentRecord;
  private readonly muts: Mutation[] = [];
  private fresh: boolean;
  /** This session starts with the incident's first close, without a read (see the constructor). */
  private readonly firstClose: boolean;
  /** A close or reopen ESET answered 400 to: the read after it tells "already so" from "refused". */
  private refused: { call: MutatingCall; key: string; status: number; reason: string } | undefined;
  /** The last answer's extra facts (authFailure) for the wait it ends in. */
  private authFailure = false;
  private readonly eset: Pick<EsetClient, 'send'>;

  constructor(
    private readonly deps: ReconcileDeps,
    private version: Versioned,
    private readonly opts: SessionOptions,
  ) {
    this.rec = structuredClone(version.rec);
    this.eset = deps.eset(version.rec.tenant);
    // The first close ever sent for an incident goes without a read: on the receive Lambda when
    // the record is new, and on the retry path when every earlier try never reached ESET or was
    // refused before it did anything (429, a token refused, a redirect, no slot in the budget).
    const rec = version.rec;
    this.firstClose =
      opts.fast === true ||
      (!rec.touched &&
        rec.eset === undefined &&
        rec.want?.status === 'closed' &&
        rec.unknown === undefined &&
        rec.pending === undefined &&
        rec.failed === undefined);
    this.fresh = this.firstClose;
  }

  /** The record as this session last saw it (with its own unsaved changes). */
  get record(): IncidentRecord {
    return this.rec;
  }

  async run(): Promise<SessionEnd> {
    if (this.opts.checkBudget && outstanding(this.rec)) {
      const ageMs = this.now() - Date.parse(this.rec.progress.budgetStart);
      if (ageMs > this.deps.policy.maxAgeSeconds * 1000) {
        this.failAll(
          `retry budget exhausted after ${Math.round(ageMs / 1000)} s: ${this.rec.progress.lastReason ?? 'no answer'}`,
        );
        return { kind: 'done' };
      }
    }
    if (this.firstClose) {
      const w = this.rec.want;
      if (w?.status === 'closed') {
        const req = EsetRequests.close(
          this.rec.incidentUuid,
          w.reason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
          w.comment ?? '',
        );
        // The receive Lambda wrote "under way" with the new record; the retry path writes it now.
        const end = await this.act('close', w.key, req, this.opts.fast === true);
        if (end) return end;
      }
    }
    for (let step = 0; step < MAX_STEPS; step++) {
      const end = await this.step();
      if (end) return end;
    }
    return this.wait(this.now(), 'time');
  }

  /**
   * Saves everything this session changed plus `last`, and lets the lease go. Returns the record
   * as saved: a ticket event that arrived meanwhile is in it (and keeps it outstanding).
   */
  async finish(last: Mutation = () => {}): Promise<Versioned> {
    this.change(last);
    this.change((r) => {
      r.lease = undefined;
    });
    await this.flush();
    return this.version;
  }

  /** Saves the session's changes now (the lease stays). */
  async flush(): Promise<void> {
    if (this.muts.length === 0) return;
    const batch = this.muts.splice(0);
    const owner = this.opts.owner;
    const saved = await updateRecord(
      this.deps.store,
      this.rec.tenant,
      this.rec.incidentUuid,
      (r) => {
        if (!r || r.lease?.owner !== owner)
          throw new LeaseLostError('the incident lease moved to another worker');
        for (const m of batch) m(r);
        return r;
      },
      this.version,
    );
    this.version = saved as Versioned;
    this.rec = structuredClone(this.version.rec);
  }

  private async step(): Promise<SessionEnd | undefined> {
    const rec = this.rec;
    const now = this.now();
    const { policy } = this.deps;

    if (rec.unknown?.settle) {
      const until = Date.parse(rec.unknown.since) + policy.settleSeconds * 1000;
      if (now < until) return this.wait(until, 'unknown', rec.unknown.reason, false);
    }

    if (rec.pending) return this.resend(rec.pending);

    if (!this.fresh) {
      const end = await this.read();
      if (end) return end;
      if (this.refused) {
        const r = this.refused;
        this.refused = undefined;
        if (!this.satisfied(r.call, r.key)) {
          this.fail(r.call === 'close' ? 'close' : 'reopen', r.key, r.reason, r.status);
        }
      }
    }

    if (rec.unknown?.call === 'comment') {
      const end = await this.findComment(rec.unknown.key);
      if (end) return end;
    } else if (rec.unknown) {
      // A close or reopen whose outcome was unknown: the read above shows what ESET did.
      this.change((r) => {
        r.unknown = undefined;
      });
    }

    const w = rec.want;
    const wantActive = w && !w.mirror && !(rec.failed && rec.failed.key === w.key);
    if (w && wantActive) {
      const status = rec.eset?.status;
      if (w.status === 'closed' && status !== CLOSED) {
        const req = EsetRequests.close(
          rec.incidentUuid,
          w.reason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
          w.comment ?? '',
        );
        return this.act('close', w.key, req);
      }
      if (w.status === 'open' && status === CLOSED) {
        return this.act('reopen', w.key, EsetRequests.reopen(rec.incidentUuid, w.comment));
      }
      const call = w.status === 'closed' ? 'close' : 'reopen';
      if (!this.effects.some((e) => e.key === w.key)) this.effects.push({ call, key: w.key, how: 'already' });
    }
    const next = rec.comments[0];
    if (next?.unsure) {
      // Redriven after a try whose outcome was unknown: post it only if it is not at ESET yet.
      const end = await this.findComment(next.key);
      if (end) return end;
      this.change((r) => {
        const c = r.comments.find((q) => q.key === next.key);
        if (c) c.unsure = undefined;
      });
      return undefined;
    }
    if (next) return this.act('comment', next.key, EsetRequests.comment(rec.incidentUuid, next.text));
    return { kind: 'done' };
  }

  /** `GET /v2/incidents/{uuid}`: what ESET says now. */
  private async read(): Promise<SessionEnd | undefined> {
    if (!this.canCall()) return this.wait(this.now(), 'time');
    const answer = await this.eset.send(EsetRequests.read(this.rec.incidentUuid), {
      deadline: this.opts.deadline,
      timeoutMs: this.opts.callTimeoutMs,
      priority: 'read',
    });
    this.note(answer);
    const o = classifyRead(answer, this.now());
    if (o.kind === 'retry') return this.backoff(o.reason, o.retryAfterMs, o.authFailure);
    if (o.kind === 'rejected') {
      this.failAll(o.reason, o.status);
      return { kind: 'done' };
    }
    const incident = incidentOf(o.json);
    if (!incident) return this.backoff('ESET answered 200 to a read without an incident status');
    const at = new Date(this.now()).toISOString();
    this.change((r) => {
      r.eset = {
        status: incident.status,
        ...(incident.resolveReason ? { reason: incident.resolveReason } : {}),
        at,
      };
    });
    this.fresh = true;
    return undefined;
  }

  /**
   * A comment whose outcome is unknown: look at the incident's comments for the same text before
   * posting it again (ESET documents nothing about repeated comments; they are applied again).
   */
  private async findComment(key: string): Promise<SessionEnd | undefined> {
    const queued = this.rec.comments.find((c) => c.key === key);
    const forget = () =>
      this.change((r) => {
        if (r.unknown?.call === 'comment' && r.unknown.key === key) r.unknown = undefined;
      });
    if (!queued) {
      forget();
      return undefined;
    }
    if (!this.canCall()) return this.wait(this.now(), 'time');
    const answer = await this.eset.send(EsetRequests.comments(this.rec.incidentUuid), {
      deadline: this.opts.deadline,
      timeoutMs: this.opts.callTimeoutMs,
      priority: 'read',
    });
    this.note(answer);
    const o = classifyRead(answer, this.now());
    if (o.kind === 'retry') return this.backoff(o.reason, o.retryAfterMs, o.authFailure);
    if (o.kind === 'rejected') {
      this.failAll(o.reason, o.status);
      return { kind: 'done' };
    }
    // A comment the bridge already accounted for (an earlier event with the same text) is not this one.
    const own = new Set(this.rec.ownComments ?? []);
    const found = commentsOf(o.json).find(
      (c) => c.text === queued.text && c.isFinalComment !== true && !(c.uuid && own.has(c.uuid)),
    );
    forget();
    if (found) this.commentPosted(key, 'already', found.uuid);
    return undefined;
  }

  /** Re-sends a request ESET answered 202 to, identical, with its `response-id`. */
  private async resend(p: NonNullable<IncidentRecord['pending']>): Promise<SessionEnd | undefined> {
    const now = this.now();
    if (now >= Date.parse(p.since) + RESPONSE_CACHE_WINDOW_MS - CACHE_MARGIN_MS) {
      // ESET keeps the answer 10 minutes: past that, only a read can tell what happened.
      this.change((r) => {
        r.pending = undefined;
        r.unknown = {
          call: p.call,
          key: p.key,
          since: p.since,
          settle: true,
          reason: "the cached answer was not fetched within ESET's 10 minutes",
        };
      });
      this.fresh = false;
      return undefined;
    }
    const nextAt = Date.parse(p.nextAt);
    if (nextAt > now) return this.wait(nextAt, 'pending', undefined, false);
    if (!this.canCall()) return this.wait(now, 'time');
    const answer = await this.eset.send(
      { call: p.call, incidentUuid: this.rec.incidentUuid, method: 'POST', path: p.path, body: p.body },
      { deadline: this.opts.deadline, timeoutMs: this.opts.callTimeoutMs, responseId: p.responseId },
    );
    this.note(answer);
    const o = classifyChange(answer, true, this.now());
    switch (o.kind) {
      case 'applied':
        this.change((r) => {
          r.pending = undefined;
        });
        this.applied(p.call, p.key, p.body, 'retrieved', answer);
        return undefined;
      case 'pending': {
        const resends = p.resends + 1;
        const delay = resendDelaySeconds(
          resends,
          this.deps.policy.pendingResendSeconds,
          Date.parse(p.since),
          this.now(),
        );
        // No re-send fits before ESET drops the cached answer: wait for the window's end, where
        // the pending call becomes an unknown to read (a re-send at once would repeat at once).
        const at =
          delay === undefined
            ? Date.parse(p.since) + RESPONSE_CACHE_WINDOW_MS - CACHE_MARGIN_MS
            : this.now() + delay * 1000;
        this.change((r) => {
          if (r.pending) {
            r.pending.resends = resends;
            r.pending.nextAt = new Date(at).toISOString();
            r.pending.responseId = o.responseId;
          }
        });
        return this.wait(at, 'pending', undefined, false);
      }
      case 'retry':
      case 'unknown': {
        // The re-send itself failed: the cached answer may still be there; ask again later.
        const end = this.backoff(o.reason, o.retryAfterMs, o.kind === 'retry' ? o.authFailure : undefined);
        const at = end.kind === 'wait' ? end.at : this.now();
        this.change((r) => {
          if (r.pending) r.pending.nextAt = new Date(at).toISOString();
        });
        return end;
      }
      default:
        // gone (404: retrieved or expired; 400: not taken as the same request), or refused:
        // the change may have been applied. Read, then decide.
        this.change((r) => {
          r.pending = undefined;
          r.unknown = { call: p.call, key: p.key, since: p.since, settle: false, reason: o.reason };
        });
        this.fresh = false;
        return undefined;
    }
  }

  /** Makes one call that changes the incident, recording first that it is under way. */
  private async act(
    call: MutatingCall,
    key: string,
    req: ReturnType<typeof EsetRequests.close>,
    alreadyMarked = false,
  ): Promise<SessionEnd | undefined> {
    if (!this.canCall()) return this.wait(this.now(), 'time');
    const since = new Date(this.now()).toISOString();
    if (!alreadyMarked) {
      this.change((r) => {
        r.unknown = { call, key, since, settle: true, reason: 'the call was under way' };
      });
      await this.flush();
    }
    const started = this.rec.unknown?.since ?? since;
    this.change((r) => {
      r.progress.calls = (r.progress.calls ?? 0) + 1;
    });
    const answer = await this.eset.send(req, {
      deadline: this.opts.deadline,
      timeoutMs: this.opts.callTimeoutMs,
    });
    this.note(answer);
    const o = classifyChange(answer, false, this.now());
    const body = req.body ?? '';
    if (o.kind !== 'retry') {
      // The call reached ESET and may have changed the incident: from now on, read before acting.
      this.change((r) => {
        r.touched = true;
      });
    }
    switch (o.kind) {
      case 'applied':
        this.change((r) => {
          r.unknown = undefined;
        });
        this.applied(call, key, body, 'applied', answer);
        return undefined;
      case 'pending': {
        const delay =
          resendDelaySeconds(0, this.deps.policy.pendingResendSeconds, this.now(), this.now()) ?? 0;
        const at = this.now() + delay * 1000;
        this.change((r) => {
          r.unknown = undefined;
          r.pending = {
            call,
            key,
            responseId: o.responseId,
            since: new Date(this.now()).toISOString(),
            resends: 0,
            nextAt: new Date(at).toISOString(),
            path: req.path,
            body,
          };
        });
        return this.wait(at, 'pending', undefined, false);
      }
      case 'unknown': {
        this.change((r) => {
          r.unknown = { call, key, since: started, settle: o.settle, reason: o.reason };
        });
        this.fresh = false;
        if (o.settle) {
          return this.wait(Date.parse(started) + this.deps.policy.settleSeconds * 1000, 'unknown', o.reason);
        }
        return this.backoff(o.reason, o.retryAfterMs, undefined, 'unknown');
      }
      case 'retry':
        this.change((r) => {
          r.unknown = undefined;
        });
        this.fresh = false;
        return this.backoff(o.reason, o.retryAfterMs, o.authFailure);
      case 'refused':
        this.change((r) => {
          r.unknown = undefined;
        });
        if (call === 'comment') {
          this.fail('comment', key, o.reason, o.status);
          return undefined;
        }
        // A 400 on a close may mean "already closed", on a reopen "already open": read to tell.
        this.refused = { call, key, status: o.status, reason: o.reason };
        this.fresh = false;
        return undefined;
      case 'rejected':
        this.change((r) => {
          r.unknown = undefined;
        });
        if (call === 'comment') this.fail('comment', key, o.reason, o.status);
        else if (o.status === 404) {
          this.failAll(o.reason, o.status);
          return { kind: 'done' };
        } else this.fail(call, key, o.reason, o.status);
        return undefined;
      case 'gone':
        // Only a re-send can find its cached answer gone.
        return this.backoff(o.reason);
    }
  }

  /** Records what a call that ESET applied (or whose cached answer came) changed. */
  private applied(
    call: MutatingCall,
    key: string,
    body: string,
    how: Effect['how'],
    answer: EsetAnswer,
  ): void {
    const at = new Date(this.now()).toISOString();
    this.change((r) => {
      r.progress.attempts = 0;
    });
    if (call === 'comment') {
      const uuid = commentUuidOf(answer.kind === 'response' ? answer.json : undefined);
      this.commentPosted(key, how, uuid);
      return;
    }
    if (call === 'close') {
      const reason = closeReasonOf(body);
      this.change((r) => {
        r.eset = { status: CLOSED, ...(reason ? { reason } : {}), at };
        r.applied.closes += 1;
      });
    } else {
      this.change((r) => {
        r.eset = { status: OPEN, at };
        r.applied.reopens += 1;
      });
    }
    this.fresh = true;
    this.effects.push({ call, key, how });
  }

  private commentPosted(key: string, how: Effect['how'], uuid: string | undefined): void {
    this.change((r) => {
      r.comments = r.comments.filter((c) => c.key !== key);
      if (how !== 'already') r.applied.comments += 1;
      if (uuid) r.ownComments = [...(r.ownComments ?? []), uuid].slice(-100);
    });
    this.effects.push({ call: 'comment', key, how });
  }

  /** Whether ESET's last seen state is what the call was meant to reach. */
  private satisfied(call: MutatingCall, key: string): boolean {
    const status = this.rec.eset?.status;
    if (call === 'close' && status === CLOSED) {
      if (!this.effects.some((e) => e.key === key)) this.effects.push({ call, key, how: 'already' });
      return true;
    }
    if (call === 'reopen' && status !== undefined && status !== CLOSED) {
      if (!this.effects.some((e) => e.key === key)) this.effects.push({ call, key, how: 'already' });
      return true;
    }
    return false;
  }

  private fail(action: TicketAction, key: string, reason: string, status?: number): void {
    const at = new Date(this.now()).toISOString();
    if (action === 'comment') {
      const queued = this.rec.comments.find((c) => c.key === key);
      // A try whose outcome was not known may have posted it: a redrive must look before posting.
      const mayBePosted =
        queued?.unsure === true ||
        (this.rec.unknown?.call === 'comment' && this.rec.unknown.key === key) ||
        (this.rec.pending?.call === 'comment' && this.rec.pending.key === key);
      const comment = queued && mayBePosted ? { ...queued, unsure: true } : queued;
      this.change((r) => {
        r.comments = r.comments.filter((c) => c.key !== key);
      });
      this.failures.push({
        action,
        key,
        reason,
        ...(status ? { status } : {}),
        ...(comment ? { comment } : {}),
      });
      return;
    }
    this.change((r) => {
      r.failed = { key, action, reason, ...(status ? { status } : {}), at };
    });
    this.failures.push({ action, key, reason, ...(status ? { status } : {}) });
  }

  /** Everything outstanding fails with one reason (the incident is unknown, or the budget is spent). */
  private failAll(reason: string, status?: number): void {
    const rec = this.rec;
    const w = rec.want;
    if (w && !w.mirror && !(rec.failed && rec.failed.key === w.key)) {
      const stateDone =
        (w.status === 'closed' && rec.eset?.status === CLOSED) ||
        (w.status === 'open' && rec.eset !== undefined && rec.eset.status !== CLOSED);
      if (!stateDone || rec.pending || rec.unknown)
        this.fail(w.status === 'closed' ? 'close' : 'reopen', w.key, reason, status);
    }
    for (const c of [...rec.comments]) this.fail('comment', c.key, reason, status);
    this.change((r) => {
      // A call that may have reached ESET is forgotten here: whatever follows (a redrive) reads first.
      if (r.unknown || r.pending) r.touched = true;
      r.pending = undefined;
      r.unknown = undefined;
    });
  }

  private backoff(
    reason: string,
    retryAfterMs?: number,
    authFailure?: boolean,
    why: 'retry' | 'unknown' = 'retry',
  ): SessionEnd {
    const delay = backoffSeconds(
      this.rec.progress.attempts + 1,
      this.deps.policy,
      this.deps.random,
      retryAfterMs,
    );
    return this.wait(this.now() + delay * 1000, why, reason, true, authFailure);
  }

  private wait(
    at: number,
    why: 'pending' | 'retry' | 'unknown' | 'time',
    reason?: string,
    countAttempt = why !== 'time',
    authFailure = this.authFailure,
  ): SessionEnd {
    this.change((r) => {
      if (countAttempt) r.progress.attempts += 1;
      if (reason) r.progress.lastReason = reason.slice(0, 1000);
    });
    return {
      kind: 'wait',
      at,
      why,
      ...(reason ? { reason } : {}),
      ...(authFailure ? { authFailure: true } : {}),
    };
  }

  private note(answer: EsetAnswer): void {
    const status = answerLabel(answer);
    const requestId = answer.kind === 'response' ? answer.requestId : undefined;
    this.authFailure =
      answer.kind === 'not-sent'
        ? answer.authFailure === true
        : answer.kind === 'response' && answer.status === 401;
    this.change((r) => {
      r.progress.lastStatus = status;
      if (requestId) r.progress.lastRequestId = requestId;
    });
  }

  private change(m: Mutation): void {
    m(this.rec);
    this.muts.push(m);
  }

  private canCall(): boolean {
    return this.opts.deadline - this.now() >= this.opts.minCallMs;
  }

  private now(): number {
    return this.deps.clock.now();
  }
}

function incidentOf(json: unknown): { status: string; resolveReason?: string } | undefined {
  const incident = (json as { incident?: unknown } | undefined)?.incident;
  if (!incident || typeof incident !== 'object') return undefined;
  const { status, resolveReason } = incident as { status?: unknown; resolveReason?: unknown };
  if (typeof status !== 'string') return undefined;
  return { status, ...(typeof resolveReason === 'string' ? { resolveReason } : {}) };
}

function commentsOf(json: unknown): { uuid?: string; text?: string; isFinalComment?: boolean }[] {
  const list = (json as { comments?: unknown } | undefined)?.comments;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is { uuid?: string; text?: string; isFinalComment?: boolean } => !!c && typeof c === 'object',
  );
}

function commentUuidOf(json: unknown): string | undefined {
  const uuid = (json as { comment?: { uuid?: unknown } } | undefined)?.comment?.uuid;
  return typeof uuid === 'string' ? uuid.slice(0, 64) : undefined;
}

function closeReasonOf(body: string): ClosureReason | undefined {
  try {
    const reason = (JSON.parse(body) as { closureReason?: unknown }).closureReason;
    return typeof reason === 'string' ? (reason as ClosureReason) : undefined;
  } catch {
    return undefined;
  }
}
