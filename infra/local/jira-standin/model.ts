/**
 * The stand-in's Jira: one project, issues with labels and ADF bodies, comments, and a workflow
 * with three statuses (one per status category) where every status can move to every other, as
 * in Jira's simplified workflows. Representations follow the Jira Cloud platform REST v3 docs
 * (IssueBean, Comment, IssueTransition, User); every change is reported to `onChange`, which
 * turns it into webhooks.
 */
import { adfProblem } from './adf-check';

export interface StandinUser {
  accountId: string;
  displayName: string;
  emailAddress?: string;
}

export type StatusKey = 'todo' | 'progress' | 'done';

export const STATUSES: Record<
  StatusKey,
  { id: string; name: string; category: 'new' | 'indeterminate' | 'done' }
> = {
  todo: { id: '10000', name: 'To Do', category: 'new' },
  progress: { id: '3', name: 'In Progress', category: 'indeterminate' },
  done: { id: '10001', name: 'Done', category: 'done' },
};

/** Jira's built-in status categories (ids and colours as Jira Cloud reports them). */
const CATEGORIES = {
  new: { id: 2, colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, colorName: 'green', name: 'Done' },
} as const;

/** Global transitions named after their target, ids as strings as Jira gives them. */
export const TRANSITIONS: ReadonlyArray<{ id: string; name: string; to: StatusKey }> = [
  { id: '11', name: 'To Do', to: 'todo' },
  { id: '21', name: 'In Progress', to: 'progress' },
  { id: '31', name: 'Done', to: 'done' },
];

/** Jira Cloud's default resolutions; a name a human picks that is not among them gets the next id. */
const DEFAULT_RESOLUTIONS: ReadonlyArray<[string, string]> = [
  ['Done', '10000'],
  ["Won't Do", '10001'],
  ['Duplicate', '10002'],
  ['Cannot Reproduce', '10003'],
];

export interface CommentRecord {
  id: string;
  author: StandinUser;
  body: unknown;
  created: number;
}

export interface IssueRecord {
  id: string;
  key: string;
  summary: string;
  description: unknown;
  labels: string[];
  issueType: string;
  status: StatusKey;
  resolution: { id: string; name: string } | null;
  resolvedAt: number | null;
  created: number;
  updated: number;
  reporter: StandinUser;
  comments: CommentRecord[];
}

export interface ChangelogItem {
  field: string;
  fieldtype: 'jira';
  fieldId: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

export type Change =
  | { kind: 'created'; issue: IssueRecord; user: StandinUser }
  | {
      kind: 'transitioned';
      issue: IssueRecord;
      user: StandinUser;
      changelogId: string;
      items: ChangelogItem[];
    }
  | { kind: 'commented'; issue: IssueRecord; user: StandinUser; comment: CommentRecord };

/** Jira's error body: `errorMessages` for the request, `errors` per field. */
export interface ErrorCollection {
  errorMessages: string[];
  errors: Record<string, string>;
}

export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    readonly status: number,
    readonly body: ErrorCollection,
  ) {
    super(body.errorMessages[0] ?? Object.values(body.errors)[0] ?? `status ${status}`);
  }
}

export function errorBody(errorMessages: string[], errors: Record<string, string> = {}): ErrorCollection {
  return { errorMessages, errors };
}

const ALL_FIELDS = [
  'summary',
  'description',
  'labels',
  'status',
  'resolution',
  'resolutiondate',
  'issuetype',
  'project',
  'reporter',
  'created',
  'updated',
  'comment',
];

/** Jira's timestamp format: `2024-04-17T19:18:10.123+0000`. */
export function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export class JiraModel {
  readonly issues = new Map<string, IssueRecord>();
  private readonly resolutions = new Map(DEFAULT_RESOLUTIONS);
  private nextIssue = 1;
  private nextId = 10_000;

  constructor(
    private readonly opts: {
      projectKey: string;
      projectName: string;
      issueTypes: readonly string[];
      base: () => string;
      now: () => number;
      onChange: (change: Change) => void;
    },
  ) {}

  reset(): void {
    this.issues.clear();
    this.nextIssue = 1;
    this.nextId = 10_000;
  }

  /** An issue by key or id; 404 as Jira words it otherwise. */
  find(keyOrId: string): IssueRecord {
    const issue = this.issues.get(keyOrId) ?? [...this.issues.values()].find((i) => i.id === keyOrId);
    if (!issue)
      throw new ModelError(404, errorBody(['Issue does not exist or you do not have permission to see it.']));
    return issue;
  }

  /** `POST /rest/api/3/issue`: checks the fields as Jira does and reports every problem at once. */
  create(body: unknown, user: StandinUser): IssueRecord {
    const fields = isRecord(body) && isRecord(body.fields) ? body.fields : undefined;
    if (!fields) throw new ModelError(400, errorBody(['Request body must hold "fields".']));
    const errors: Record<string, string> = {};
    const project = isRecord(fields.project) ? fields.project : {};
    if (project.key !== this.opts.projectKey && project.id !== '10000') {
      errors.project = 'Specify a valid project ID or key';
    }
    const type = isRecord(fields.issuetype) ? fields.issuetype : {};
    const typeIndex = this.opts.issueTypes.findIndex(
      (t, i) => t === type.name || String(10_001 + i) === type.id,
    );
    if (typeIndex < 0) errors.issuetype = 'Specify a valid issue type';
    const summary = typeof fields.summary === 'string' ? fields.summary.trim() : '';
    if (summary === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    const description = fields.description ?? null;
    if (description !== null && adfProblem(description) !== undefined) {
      errors.description =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || l === '' || l.length > 255)) {
      errors.labels = 'Labels must be a list of non-empty strings of at most 255 characters.';
    } else {
      const spaced = labels.find((l: string) => /\s/.test(l));
      if (spaced !== undefined) errors.labels = `The label '${spaced}' contains spaces which is invalid.`;
    }
    for (const name of Object.keys(fields)) {
      if (!['project', 'issuetype', 'summary', 'description', 'labels'].includes(name)) {
        errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
      }
    }
    if (Object.keys(errors).length > 0) throw new ModelError(400, errorBody([], errors));

    const now = this.opts.now();
    const issue: IssueRecord = {
      id: String(this.nextId++),
      key: `${this.opts.projectKey}-${this.nextIssue++}`,
      summary,
      description,
      labels: [...new Set(labels as string[])],
      issueType: this.opts.issueTypes[typeIndex] ?? 'Task',
      status: 'todo',
      resolution: null,
      resolvedAt: null,
      created: now,
      updated: now,
      reporter: user,
      comments: [],
    };
    this.issues.set(issue.key, issue);
    this.opts.onChange({ kind: 'created', issue, user });
    return issue;
  }

  /** Transitions an issue offers now: every one except into its own status. */
  transitionsOf(issue: IssueRecord): typeof TRANSITIONS {
    return TRANSITIONS.filter((t) => t.to !== issue.status);
  }

  /**
   * Applies a transition. Entering Done sets a resolution (what Jira's default Done transition
   * does; `Done` unless a human picked another), leaving Done clears it.
   */
  transition(issue: IssueRecord, transitionId: string, user: StandinUser, resolutionName = 'Done'): void {
    const transition = this.transitionsOf(issue).find((t) => t.id === transitionId);
    if (!transition) {
      throw new ModelError(400, errorBody([`Transition id '${transitionId}' is not valid for this issue.`]));
    }
    const from = STATUSES[issue.status];
    const to = STATUSES[transition.to];
    const items: ChangelogItem[] = [];
    const now = this.opts.now();
    if (transition.to === 'done' && issue.resolution === null) {
      const id = this.resolutions.get(resolutionName) ?? String(10_000 + this.resolutions.size);
      this.resolutions.set(resolutionName, id);
      issue.resolution = { id, name: resolutionName };
      issue.resolvedAt = now;
      items.push(item('resolution', null, null, id, resolutionName));
    } else if (transition.to !== 'done' && issue.resolution !== null) {
      items.push(item('resolution', issue.resolution.id, issue.resolution.name, null, null));
      issue.resolution = null;
      issue.resolvedAt = null;
    }
    items.push(item('status', from.id, from.name, to.id, to.name));
    issue.status = transition.to;
    issue.updated = now;
    this.opts.onChange({ kind: 'transitioned', issue, user, changelogId: String(this.nextId++), items });
  }

  addComment(issue: IssueRecord, body: unknown, user: StandinUser): CommentRecord {
    const problem = adfProblem(body);
    if (problem !== undefined)
      throw new ModelError(400, errorBody([], { comment: `Comment body is not valid ADF: ${problem}` }));
    const comment: CommentRecord = {
      id: String(this.nextId++),
      author: user,
      body,
      created: this.opts.now(),
    };
    issue.comments.push(comment);
    issue.updated = comment.created;
    this.opts.onChange({ kind: 'commented', issue, user, comment });
    return comment;
  }

  /** IssueBean with the named fields (`*all`/`*navigable` for all); only `id` when none are named. */
  issueJson(issue: IssueRecord, fields: readonly string[] | undefined): Record<string, unknown> {
    if (fields === undefined || (fields.length === 1 && fields[0] === 'id')) return { id: issue.id };
    const wanted = fields.some((f) => f === '*all' || f === '*navigable')
      ? ALL_FIELDS.filter((f) => !fields.includes(`-${f}`))
      : ALL_FIELDS.filter((f) => fields.includes(f));
    const all = this.fieldValues(issue);
    return {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${this.opts.base()}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields: Object.fromEntries(wanted.map((f) => [f, all[f]])),
    };
  }

  private fieldValues(issue: IssueRecord): Record<string, unknown> {
    const base = this.opts.base();
    const typeIndex = this.opts.issueTypes.indexOf(issue.issueType);
    return {
      summary: issue.summary,
      description: issue.description,
      labels: issue.labels,
      status: this.statusJson(issue.status),
      resolution: issue.resolution && {
        self: `${base}/rest/api/3/resolution/${issue.resolution.id}`,
        id: issue.resolution.id,
        description: '',
        name: issue.resolution.name,
      },
      resolutiondate: issue.resolvedAt === null ? null : jiraTime(issue.resolvedAt),
      issuetype: {
        self: `${base}/rest/api/3/issuetype/${10_001 + typeIndex}`,
        id: String(10_001 + typeIndex),
        name: issue.issueType,
        subtask: false,
      },
      project: {
        self: `${base}/rest/api/3/project/10000`,
        id: '10000',
        key: this.opts.projectKey,
        name: this.opts.projectName,
      },
      reporter: this.userJson(issue.reporter),
      created: jiraTime(issue.created),
      updated: jiraTime(issue.updated),
      comment: {
        comments: issue.comments.map((c) => this.commentJson(issue, c)),
        maxResults: issue.comments.length,
        total: issue.comments.length,
        startAt: 0,
      },
    };
  }

  statusJson(key: StatusKey): Record<string, unknown> {
    const base = this.opts.base();
    const status = STATUSES[key];
    const category = CATEGORIES[status.category];
    return {
      self: `${base}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${base}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: {
        self: `${base}/rest/api/3/statuscategory/${category.id}`,
        id: category.id,
        key: status.category,
        colorName: category.colorName,
        name: category.name,
      },
    };
  }

  /** UserDetails, as comment authors and webhook actors appear. */
  userJson(user: StandinUser): Record<string, unknown> {
    return {
      self: `${this.opts.base()}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
      accountId: user.accountId,
      ...(user.emailAddress ? { emailAddress: user.emailAddress } : {}),
      displayName: user.displayName,
      active: true,
      timeZone: 'Etc/UTC',
      accountType: 'atlassian',
    };
  }

  commentJson(issue: IssueRecord, comment: CommentRecord): Record<string, unknown> {
    const author = this.userJson(comment.author);
    return {
      self: `${this.opts.base()}/rest/api/3/issue/${issue.id}/comment/${comment.id}`,
      id: comment.id,
      author,
      body: comment.body,
      updateAuthor: author,
      created: jiraTime(comment.created),
      updated: jiraTime(comment.created),
      jsdPublic: true,
    };
  }

  transitionJson(transition: (typeof TRANSITIONS)[number]): Record<string, unknown> {
    return {
      id: transition.id,
      name: transition.name,
      to: this.statusJson(transition.to),
      hasScreen: false,
      isGlobal: true,
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      looped: false,
    };
  }
}

function item(
  field: string,
  from: string | null,
  fromString: string | null,
  to: string | null,
  toText: string | null,
): ChangelogItem {
  return { field, fieldtype: 'jira', fieldId: field, from, fromString, to, toString: toText };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
