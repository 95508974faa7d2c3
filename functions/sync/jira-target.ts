import type { Clock } from '../clock/clock';
import { textToAdf } from '../jira/adf';
import type { JiraClient } from '../jira/client';
import { JiraError } from '../jira/errors';
import { type EsetIncident, reasonText, severityText } from './eset-incidents';
import {
  type CallContext,
  type FoundTicket,
  incidentLink,
  type News,
  noteIds,
  noteTrailer,
  type SyncTarget,
  TargetError,
  type TicketRef,
} from './target';

/** The label the Jira route reads (docs/senders/jira.md): resolving the issue closes the incident. */
export const incidentLabel = (uuid: string) => `eset-incident-${uuid.toLowerCase()}`;

/** One Jira call's budget within the run (the client retries 429 and 5xx reads inside it). */
const CALL_BUDGET_MS = 30_000;
const MAX_SUMMARY = 255;
/** Jira refuses a comment body over 32,767 characters; ESET's texts are cut well below that. */
const MAX_TEXT = 20_000;
const cut = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

export interface JiraTargetOptions {
  client: Pick<
    JiraClient,
    'myself' | 'searchByLabel' | 'createIssue' | 'addComment' | 'listComments' | 'transitionToCategory'
  >;
  clock: Pick<Clock, 'now'>;
  projectKey: string;
  issueType: string;
  incidentUrl: string;
  /** The account the operator named (JIRA_BRIDGE_ACCOUNT_ID): it must be the API user's. */
  expectedAccountId?: string;
}

/**
 * Jira Cloud as the sync's target: one issue per incident, found by its label, news as comments
 * (ADF, each carrying the bridge's marker and the news id), closes and reopens as transitions
 * chosen by status category. Jira writes are never repeated blindly: after a lost answer the
 * engine passes `unsure`, and the comments are read before a note is posted again.
 */
export class JiraTarget implements SyncTarget {
  readonly name = 'jira' as const;
  readonly changesStatus = true;
  readonly repeatSafe = false;
  private account: string | undefined;

  constructor(private readonly opts: JiraTargetOptions) {}

  async start(ctx: CallContext): Promise<{ actor?: string }> {
    if (this.account === undefined) {
      const me = await this.call(() => this.opts.client.myself({ deadline: this.deadline(ctx) }));
      const expected = this.opts.expectedAccountId;
      if (expected !== undefined && expected.toLowerCase() !== me.accountId.toLowerCase()) {
        throw new TargetError(
          'permanent',
          `JIRA_BRIDGE_ACCOUNT_ID (${expected}) is not the Jira API user's account (${me.accountId}): the Jira route would not recognise the bridge's own changes`,
        );
      }
      this.account = me.accountId;
    }
    return { actor: this.account };
  }

  async find(incidentUuid: string, ctx: CallContext): Promise<FoundTicket | undefined> {
    const issues = await this.call(() =>
      this.opts.client.searchByLabel(incidentLabel(incidentUuid), ['status', 'labels'], {
        projectKey: this.opts.projectKey,
        deadline: this.deadline(ctx),
      }),
    );
    // Should several carry the label (made by hand), the oldest is the incident's ticket.
    const issue = [...issues].sort((a, b) => Number(a.id) - Number(b.id))[0];
    if (!issue) return undefined;
    const comments = await this.call(() =>
      this.opts.client.listComments(issue.key, { deadline: this.deadline(ctx) }),
    );
    return {
      ref: { key: issue.key },
      closed: issue.fields.status?.statusCategory.key === 'done',
      told: comments.flatMap((c) => noteIds(c.text)),
    };
  }

  async create(incident: EsetIncident, ctx: CallContext): Promise<TicketRef> {
    const name = (incident.displayName ?? '').replace(/\s+/g, ' ').trim() || incident.uuid;
    const summary = `ESET incident: ${name}`;
    const created = await this.call(() =>
      this.opts.client.createIssue(
        {
          projectKey: this.opts.projectKey,
          issueType: this.opts.issueType,
          summary: summary.length > MAX_SUMMARY ? `${summary.slice(0, MAX_SUMMARY - 1)}…` : summary,
          description: textToAdf(this.description(incident)),
          labels: [incidentLabel(incident.uuid), 'eset'],
        },
        { deadline: this.deadline(ctx) },
      ),
    );
    return { key: created.key };
  }

  async tell(ref: TicketRef, news: News, ctx: CallContext & { unsure: boolean }): Promise<void> {
    switch (news.kind) {
      case 'closed':
        if (news.origin === 'ticket') return;
        await this.note(ref, news.id, closedText(news), ctx);
        await this.transition(ref, 'done', ctx);
        return;
      case 'reopened':
        if (news.origin === 'ticket') return;
        await this.transition(ref, 'not-done', ctx);
        return;
      case 'commented': {
        const c = news.comment;
        const who = c.authorUuid ? `user ${c.authorUuid}` : 'someone';
        const when = c.createTime ? ` at ${c.createTime}` : '';
        await this.note(ref, news.id, `Comment in ESET by ${who}${when}:\n\n${cut(c.text ?? '')}`, ctx);
        return;
      }
      case 'failed': {
        const n = news.notice;
        const verb = n.action === 'close' ? 'close' : 'reopen';
        const status = n.status ? ` (ESET answered ${n.status})` : '';
        const still = n.action === 'close' ? 'open' : 'closed';
        await this.note(
          ref,
          news.id,
          `The bridge could not ${verb} the ESET incident: ${n.reason}${status}.\n\n` +
            `The incident is still ${still} in ESET: ${verb} it in the ESET console, or change this issue again to retry.`,
          ctx,
        );
        return;
      }
    }
  }

  private async note(ref: TicketRef, id: string, text: string, ctx: CallContext & { unsure: boolean }) {
    if (ctx.unsure) {
      const comments = await this.call(() =>
        this.opts.client.listComments(ref.key, { deadline: this.deadline(ctx) }),
      );
      if (comments.some((c) => noteIds(c.text).includes(id))) return;
    }
    await this.call(() =>
      this.opts.client.addComment(ref.key, textToAdf(`${text}\n\n${noteTrailer(id)}`), {
        deadline: this.deadline(ctx),
      }),
    );
  }

  private async transition(ref: TicketRef, target: 'done' | 'not-done', ctx: CallContext): Promise<void> {
    // Reads the status first: an issue already in the category is left alone.
    await this.call(() =>
      this.opts.client.transitionToCategory(ref.key, target, { deadline: this.deadline(ctx) }),
    );
  }

  private description(incident: EsetIncident): string {
    const lines = [
      `ESET incident: ${incident.displayName ?? incident.uuid}`,
      `Severity: ${severityText(incident.severity)}. Created in ESET: ${incident.createTime ?? 'unknown'}.`,
    ];
    if (incident.description?.trim()) lines.push('', cut(incident.description.trim()));
    lines.push(
      '',
      `ESET incident ${incident.uuid}: ${incidentLink(this.opts.incidentUrl, incident.uuid)}`,
      '',
      'Opened by eset-close-bridge. Resolving this issue closes the ESET incident; closes, reopens and comments made in ESET are written here.',
    );
    return lines.join('\n');
  }

  private deadline(ctx: CallContext): number {
    return Math.min(ctx.deadline, this.opts.clock.now() + CALL_BUDGET_MS);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof JiraError)) throw err;
      const kind =
        err.kind === 'unavailable' ? 'transient' : err.kind === 'unknown-outcome' ? 'unknown' : 'permanent';
      throw new TargetError(kind, err.message, { cause: err });
    }
  }
}

function closedText(news: Extract<News, { kind: 'closed' }>): string {
  const by = news.closedBy ? ` by user ${news.closedBy}` : '';
  const lines = [
    `The ESET incident was closed in ESET${by} (reason: ${reasonText(news.incident.resolveReason)}).`,
  ];
  lines.push(
    news.finalComment ? `ESET's final comment:\n${cut(news.finalComment)}` : 'ESET has no final comment.',
  );
  return lines.join('\n\n');
}
