/**
 * The REST routes of the stand-in: exactly the Jira Cloud platform REST v3 operations the
 * bridge's client calls, answered as Atlassian documents them (status codes, IssueBean,
 * SearchAndReconcileResults, PageOfComments, Transitions, ErrorCollection).
 */
import * as z from 'zod/mini';
import { JqlError, parseLabelQuery } from './jql';
import { errorBody, type IssueRecord, isRecord, type JiraModel, type StandinUser } from './model';

export interface Answer {
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export const json = (status: number, body: unknown): Answer => ({ status, body });

const SearchBody = z.strictObject({
  jql: z.string(),
  fields: z.optional(z.array(z.string())),
  maxResults: z.optional(z.int()),
  nextPageToken: z.optional(z.string()),
  reconcileIssues: z.optional(z.array(z.int())),
  expand: z.optional(z.string()),
  fieldsByKeys: z.optional(z.boolean()),
  properties: z.optional(z.array(z.string())),
});

export function notAllowed(allow: string): Answer {
  return { status: 405, headers: { allow } };
}

/**
 * Routes for one stand-in; `base` is its URL once it listens. `searchPageLimit` caps a search
 * page below the `maxResults` asked for, as Jira does when many fields are requested.
 */
export function restApi(
  model: JiraModel,
  opts: { projectKey: string; base: () => string; searchPageLimit: number },
) {
  const { projectKey, base } = opts;
  /** The REST API proper: every route of the bridge's client, as Atlassian documents it. */
  function api(
    method: string,
    pathname: string,
    query: URLSearchParams,
    body: unknown,
    user: StandinUser,
  ): Answer {
    if (pathname === '/rest/api/3/myself') {
      return method === 'GET' ? json(200, { ...model.userJson(user), locale: 'en_US' }) : notAllowed('GET');
    }
    if (pathname === '/rest/api/3/search/jql')
      return method === 'POST' ? search(body) : notAllowed('GET, POST');
    if (pathname === '/rest/api/3/issue') {
      if (method !== 'POST') return notAllowed('POST');
      const issue = model.create(body, user);
      return json(201, { id: issue.id, key: issue.key, self: `${base()}/rest/api/3/issue/${issue.id}` });
    }
    const m = /^\/rest\/api\/3\/issue\/([^/]+)(\/comment|\/transitions)?$/.exec(pathname);
    if (!m?.[1]) return json(404, errorBody([`null for uri: ${base()}${pathname}`]));
    const issue = model.find(decodeURIComponent(m[1]));
    switch (`${method} ${m[2] ?? ''}`) {
      case 'GET ':
        return json(
          200,
          model.issueJson(
            issue,
            query.has('fields') ? query.getAll('fields').flatMap((f) => f.split(',')) : ['*all'],
          ),
        );
      case 'GET /comment':
        return comments(issue, query);
      case 'POST /comment': {
        const comment = model.addComment(issue, isRecord(body) ? body.body : undefined, user);
        return json(201, model.commentJson(issue, comment));
      }
      case 'GET /transitions':
        return json(200, {
          expand: 'transitions',
          transitions: model.transitionsOf(issue).map((t) => model.transitionJson(t)),
        });
      case 'POST /transitions':
        return transition(issue, body, user);
      default:
        return notAllowed(m[2] ? 'GET, POST' : 'GET');
    }
  }

  function search(body: unknown): Answer {
    const parsed = z.safeParse(SearchBody, body);
    if (!parsed.success)
      return json(400, errorBody([`Invalid request payload: ${parsed.error.issues[0]?.message ?? ''}`]));
    let query: ReturnType<typeof parseLabelQuery>;
    try {
      query = parseLabelQuery(parsed.data.jql);
    } catch (error) {
      if (error instanceof JqlError) return json(400, errorBody([error.message]));
      throw error;
    }
    if (query.project !== undefined && query.project !== projectKey) {
      return json(400, errorBody([`The value '${query.project}' does not exist for the field 'project'.`]));
    }
    const fields = parsed.data.fields;
    const idsOnly = fields === undefined || (fields.length === 1 && fields[0] === 'id');
    const limit = Math.min(Math.max(parsed.data.maxResults ?? 50, 1), idsOnly ? 5000 : opts.searchPageLimit);
    const offset =
      parsed.data.nextPageToken === undefined
        ? 0
        : Number(Buffer.from(parsed.data.nextPageToken, 'base64url').toString());
    if (!Number.isInteger(offset) || offset < 0)
      return json(400, errorBody(['The provided next page token is invalid or expired.']));
    const matches = [...model.issues.values()].filter((i) => i.labels.some((l) => query.labels.includes(l)));
    const page = matches.slice(offset, offset + limit);
    const isLast = offset + limit >= matches.length;
    return json(200, {
      issues: page.map((i) => model.issueJson(i, fields)),
      ...(isLast ? {} : { nextPageToken: Buffer.from(String(offset + limit)).toString('base64url') }),
      isLast,
    });
  }

  function comments(issue: IssueRecord, query: URLSearchParams): Answer {
    const orderBy = query.get('orderBy') ?? 'created';
    if (!['created', '+created', '-created'].includes(orderBy))
      return json(400, errorBody(['orderBy must be created']));
    const startAt = Math.max(0, Number(query.get('startAt') ?? 0) || 0);
    const maxResults = Math.min(Math.max(Number(query.get('maxResults') ?? 100) || 100, 1), 100);
    const ordered = orderBy === '-created' ? [...issue.comments].reverse() : issue.comments;
    return json(200, {
      comments: ordered.slice(startAt, startAt + maxResults).map((c) => model.commentJson(issue, c)),
      maxResults,
      total: issue.comments.length,
      startAt,
    });
  }

  function transition(issue: IssueRecord, body: unknown, user: StandinUser): Answer {
    const id = isRecord(body) && isRecord(body.transition) ? body.transition.id : undefined;
    if (typeof id !== 'string' || id === '') return json(400, errorBody(["Missing 'transition' identifier"]));
    // These transitions have no screen, so no field can be set on the way (Jira answers the same).
    for (const part of ['fields', 'update'] as const) {
      const set = isRecord(body) && isRecord(body[part]) ? Object.keys(body[part]) : [];
      if (set.length > 0) {
        return json(
          400,
          errorBody([], {
            [set[0] as string]: `Field '${set[0]}' cannot be set. It is not on the appropriate screen, or unknown.`,
          }),
        );
      }
    }
    model.transition(issue, id, user);
    return { status: 204 };
  }

  return api;
}
