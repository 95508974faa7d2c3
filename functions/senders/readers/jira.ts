import { scalarText } from '../field-path';
import { normalizeKey } from '../normalize';
import {
  at,
  declaredEvent,
  firstText,
  flag,
  isObject,
  type Json,
  objectAt,
  optional,
  plainText,
  present,
  type Reader,
  type Reading,
  textOf,
} from './reading';

/**
 * Jira Cloud (and Server/Data Center) as a sender:
 * - admin webhooks: `jira:issue_updated` (with a `changelog` of what changed, and the comment when
 *   `issue_event_type_name` is `issue_commented`) and `comment_created`;
 * - Automation "Send web request" with the built-in "Issue data" bodies (the issue at the top
 *   level, or under `issue` in the "Jira format");
 * - Automation "Custom data" bodies written from the documented template (docs/senders/jira.md),
 *   flat, with `"event": "resolved" | "reopened" | "commented"`.
 */

/** Statuses that are "done" in Jira's default workflows; a change away from one is a reopen. */
const DONE_STATUSES = new Set(
  ['Done', 'Closed', 'Resolved', "Won't Do", 'Cancelled', 'Canceled', 'Declined', 'Rejected'].map(
    normalizeKey,
  ),
);

const CUSTOM_KEYS = ['issueKey', 'esetIncident', 'resolution'] as const;

export const jiraReader: Reader = {
  view(body) {
    // Automation "Issue data": the issue itself at the top level.
    if (body.issue === undefined && body.fields !== undefined && body.key !== undefined) {
      return { ...body, issue: body };
    }
    // The documented Custom data template: flat keys, read as the webhook's shape.
    if (body.issue === undefined && CUSTOM_KEYS.some((k) => body[k] !== undefined)) {
      const comment = scalarText(body.comment);
      return {
        ...body,
        issue: {
          key: body.issueKey,
          fields: {
            summary: body.summary,
            description: body.description,
            labels: body.labels,
            resolution: { name: body.resolution },
          },
        },
        comment: {
          id: body.commentId,
          body: comment,
          internal: body.commentInternal,
          author: { accountId: body.actor },
          created: body.occurredAt,
        },
      };
    }
    return body;
  },

  read(view) {
    const declared = declaredEvent(view);
    if (declared !== undefined) {
      if (typeof declared !== 'string') return declared;
      return declared === 'comment' ? commentEvent(view) : issueEvent(view, declared);
    }
    const webhookEvent = textOf(view, 'webhookEvent');
    const type = textOf(view, 'issue_event_type_name');
    if (webhookEvent === 'comment_created' || type === 'issue_commented') return commentEvent(view);
    if (webhookEvent === 'comment_updated' || webhookEvent === 'comment_deleted') {
      return { kind: 'skip', reason: `${webhookEvent}: only new comments are copied` };
    }
    if (webhookEvent !== undefined && webhookEvent !== 'jira:issue_updated') {
      return { kind: 'skip', reason: `not an issue update (webhookEvent ${webhookEvent.slice(0, 60)})` };
    }

    const items = at(view, 'changelog.items');
    if (Array.isArray(items) && items.length > 0) {
      const change = (field: string) =>
        items.find((i): i is Json => isObject(i) && scalarText(i.field)?.toLowerCase() === field);
      const resolution = change('resolution');
      const status = change('status');
      if (resolution) {
        return present(resolution.to) || present(resolution.toString)
          ? issueEvent(view, 'close')
          : issueEvent(view, 'reopen');
      }
      if (status) {
        const from = scalarText(status.fromString);
        if (isDone(view)) return issueEvent(view, 'close');
        if (type === 'issue_reopened' || (from !== undefined && DONE_STATUSES.has(normalizeKey(from)))) {
          return issueEvent(view, 'reopen');
        }
        return { kind: 'skip', reason: `status changed to ${currentStatus(view)}, which is not done` };
      }
      return { kind: 'skip', reason: 'the update did not change the resolution or status' };
    }
    // No changelog: an Automation body, sent by a rule that decided when to send.
    if (type === 'issue_reopened') return issueEvent(view, 'reopen');
    if (isDone(view)) return issueEvent(view, 'close');
    return {
      kind: 'skip',
      reason: 'not a resolve event (no resolution and the status category is not done)',
    };
  },
};

function currentStatus(view: Json): string {
  return (textOf(view, 'issue.fields.status.name') ?? 'an unknown status').slice(0, 60);
}

/** Resolved now: a resolution is set, or the status is in the done category. */
function isDone(view: Json): boolean {
  return (
    textOf(view, 'issue.fields.resolution.name') !== undefined ||
    textOf(view, 'issue.fields.status.statusCategory.key')?.toLowerCase() === 'done'
  );
}

function issueEvent(view: Json, action: 'close' | 'reopen'): Reading {
  return {
    kind: 'event',
    action,
    occurredAt:
      at(view, 'occurredAt') ??
      at(view, 'timestamp') ??
      (action === 'close' ? at(view, 'issue.fields.resolutiondate') : undefined) ??
      at(view, 'issue.fields.updated'),
    ...optional('eventId', firstText(view, 'changelog.id')),
    ...optional('actor', firstText(view, 'user.accountId', 'actor')),
  };
}

function commentEvent(view: Json): Reading {
  const comment = objectAt(view, 'comment');
  const text = plainText(comment?.body);
  if (!comment || text === undefined) {
    return {
      kind: 'skip',
      reason: 'a comment was added, but the payload carries no comment text (subscribe to "Comment created")',
    };
  }
  // Restricted to a role or group, or a Jira Service Management internal note: not public.
  const internal =
    isObject(comment.visibility) || flag(comment.jsdPublic) === false || flag(comment.internal) === true;
  return {
    kind: 'event',
    action: 'comment',
    text,
    internal,
    occurredAt: comment.created ?? at(view, 'timestamp'),
    ...optional('eventId', firstText(comment, 'id')),
    ...optional('actor', firstText(comment, 'author.accountId') ?? firstText(view, 'user.accountId')),
  };
}
