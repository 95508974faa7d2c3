import { normalizeKey } from '../normalize';
import { at, firstText, optional, plainText, type Reader, textOf } from './reading';

/**
 * TheHive as a sender. TheHive 4 webhooks (`operation`, lower-case `objectType` such as `case` and
 * `case_task_log`) and TheHive 5 audit notifications (`action`, `objectType` such as `Case`,
 * `Comment`, `Log`, with the case as `context`). `details` holds what changed, so only the change
 * itself closes or reopens: later edits of a closed case do nothing.
 */

const CLOSED = new Set(['closed', 'resolved']);
const REOPENED = new Set(['open', 'new', 'inprogress']);
const COMMENTS = new Set(['casecomment', 'comment']);
const LOGS = new Set(['casetasklog', 'log', 'tasklog']);

export const thehiveReader: Reader = {
  view: (body) => body,

  read(view) {
    const objectType = normalizeKey(textOf(view, 'objectType') ?? '');
    const operation = normalizeKey(textOf(view, 'operation') ?? textOf(view, 'action') ?? '');
    const common = {
      // TheHive 5 stamps the audit (_createdAt); TheHive 4 the operation (startDate).
      occurredAt: at(view, '_createdAt') ?? at(view, 'startDate') ?? at(view, 'object.updatedAt'),
      ...optional(
        'actor',
        firstText(view, '_createdBy', 'object.updatedBy', 'object._updatedBy', 'object.createdBy'),
      ),
    };
    if (COMMENTS.has(objectType) || LOGS.has(objectType)) {
      if (operation !== 'creation' && operation !== 'create') {
        return { kind: 'skip', reason: `${objectType} ${operation}: only new comments and logs are copied` };
      }
      const text = plainText(at(view, 'object.message') ?? at(view, 'details.message'));
      if (text === undefined) return { kind: 'skip', reason: `a ${objectType} without a message` };
      return {
        kind: 'event',
        action: 'comment',
        text,
        ...common,
        ...optional('eventId', firstText(view, 'object._id', 'object.id', '_id')),
        ...optional(
          'actor',
          firstText(view, '_createdBy', 'object._createdBy', 'object.createdBy', 'object.owner'),
        ),
      };
    }
    if (objectType !== 'case')
      return { kind: 'skip', reason: `not a case event (objectType ${objectType || 'missing'})` };
    if (operation !== 'update')
      return { kind: 'skip', reason: `not a case update (${operation || 'no operation'})` };
    // TheHive 5 moves the stage; TheHive 4 the status. Read the stage first when it changed.
    const change = normalizeKey(textOf(view, 'details.stage') ?? textOf(view, 'details.status') ?? '');
    const eventId = optional('eventId', firstText(view, '_id', 'requestId'));
    if (CLOSED.has(change)) return { kind: 'event', action: 'close', ...common, ...eventId };
    if (REOPENED.has(change)) return { kind: 'event', action: 'reopen', ...common, ...eventId };
    return {
      kind: 'skip',
      reason:
        'not a resolve event (the update did not move details.stage or details.status to Closed or Resolved)',
    };
  },
};
