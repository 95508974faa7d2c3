import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { textToAdf } from '../../functions/jira/adf';
import { JiraClient } from '../../functions/jira/client';
import { createJiraStandin, type JiraStandin } from '../../infra/local/jira-standin/server';
import {
  Comment,
  CommentRequest,
  CreatedIssue,
  ErrorCollection,
  IssueBean,
  IssueFieldsRead,
  IssueUpdateDetails,
  PageOfComments,
  SearchAndReconcileRequestBean,
  SearchAndReconcileResults,
  Transitions,
  User,
} from './jira-contract';

interface Exchange {
  method: string;
  path: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
}

/** Each operation the client calls, by the spec's operationId: the component it sends, those that come back. */
const OPERATIONS: Array<{
  name: string;
  method: string;
  path: RegExp;
  request?: z.ZodType;
  answers: Record<number, z.ZodType | 'empty'>;
}> = [
  { name: 'getCurrentUser', method: 'GET', path: /^\/rest\/api\/3\/myself$/, answers: { 200: User } },
  {
    name: 'searchAndReconsileIssuesUsingJqlPost',
    method: 'POST',
    path: /^\/rest\/api\/3\/search\/jql$/,
    request: SearchAndReconcileRequestBean,
    answers: { 200: SearchAndReconcileResults, 400: ErrorCollection },
  },
  {
    name: 'createIssue',
    method: 'POST',
    path: /^\/rest\/api\/3\/issue$/,
    request: IssueUpdateDetails,
    answers: { 201: CreatedIssue, 400: ErrorCollection },
  },
  {
    name: 'getIssue',
    method: 'GET',
    path: /^\/rest\/api\/3\/issue\/[^/]+\?/,
    answers: { 200: IssueBean, 404: ErrorCollection },
  },
  {
    name: 'addComment',
    method: 'POST',
    path: /^\/rest\/api\/3\/issue\/[^/]+\/comment$/,
    request: CommentRequest,
    answers: { 201: Comment },
  },
  {
    name: 'getComments',
    method: 'GET',
    path: /^\/rest\/api\/3\/issue\/[^/]+\/comment\?/,
    answers: { 200: PageOfComments },
  },
  {
    name: 'getTransitions',
    method: 'GET',
    path: /^\/rest\/api\/3\/issue\/[^/]+\/transitions$/,
    answers: { 200: Transitions },
  },
  {
    name: 'doTransition',
    method: 'POST',
    path: /^\/rest\/api\/3\/issue\/[^/]+\/transitions$/,
    request: IssueUpdateDetails,
    answers: { 204: 'empty', 400: ErrorCollection },
  },
];

let standin: JiraStandin;
const exchanges: Exchange[] = [];

/** Records every request the client sends and every answer the stand-in gives. */
const recording: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const text = await res.text();
  const url = new URL(String(input));
  exchanges.push({
    method: init?.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    ...(typeof init?.body === 'string' ? { requestBody: JSON.parse(init.body) } : {}),
    status: res.status,
    ...(text === '' ? {} : { responseBody: JSON.parse(text) }),
  });
  return new Response(text === '' ? null : text, { status: res.status, headers: res.headers });
};

beforeAll(async () => {
  standin = await createJiraStandin();
  const jira = new JiraClient({
    baseUrl: standin.url,
    email: standin.apiUser.email,
    apiToken: standin.apiUser.apiToken,
    fetch: recording,
  });
  const label = 'eset-incident-123e4567-e89b-12d3-a456-426614174000';
  await jira.myself();
  const { key } = await jira.createIssue({
    projectKey: 'SEC',
    issueType: 'Task',
    summary: 'ESET incident',
    description: textToAdf('Raised from ESET: https://eset.example/i/1'),
    labels: [label],
  });
  await jira.searchByLabel(label, ['summary', 'status', 'resolution', 'labels'], {
    projectKey: 'SEC',
    reconcileIssues: [10000],
  });
  await jira.addComment(key, textToAdf('ESET: closed.'));
  standin.comment(key, 'Reimaged.');
  await jira.listComments(key);
  await jira.transitionToCategory(key, 'done');
  await jira.getIssue(key, ['summary', 'status', 'resolution', 'labels']);
  await jira.transitionToCategory(key, 'not-done');
  // Refusals, so ErrorCollection answers are checked too.
  await jira.getIssue('SEC-404', ['status']).catch(() => undefined);
  await jira.transition(key, '999').catch(() => undefined);
  await jira
    .createIssue({
      projectKey: 'SEC',
      issueType: 'Task',
      summary: '',
      description: textToAdf('x'),
      labels: [],
    })
    .catch(() => undefined);
});

afterAll(async () => {
  await standin.close();
});

function operationOf(exchange: Exchange) {
  return OPERATIONS.find((op) => op.method === exchange.method && op.path.test(exchange.path));
}

describe("the client and the stand-in keep to Atlassian's OpenAPI document", () => {
  it('calls only documented operations, and each of them', () => {
    const unmatched = exchanges.filter((e) => operationOf(e) === undefined);
    expect(unmatched).toEqual([]);
    const used = new Set(exchanges.map((e) => operationOf(e)?.name));
    expect([...used].sort()).toEqual(OPERATIONS.map((op) => op.name).sort());
  });

  it('sends request bodies that match the spec', () => {
    for (const exchange of exchanges) {
      const op = operationOf(exchange);
      if (op?.request === undefined) {
        expect(exchange.requestBody, `${exchange.method} ${exchange.path}`).toBeUndefined();
        continue;
      }
      const parsed = op.request.safeParse(exchange.requestBody);
      expect(parsed.error?.issues ?? [], `${op.name} request`).toEqual([]);
    }
  });

  it('gets answers that match the spec, status by status', () => {
    for (const exchange of exchanges) {
      const op = operationOf(exchange);
      const schema = op?.answers[exchange.status];
      expect(schema, `${exchange.method} ${exchange.path} answered ${exchange.status}`).toBeDefined();
      if (schema === 'empty') {
        expect(exchange.responseBody).toBeUndefined();
        continue;
      }
      const parsed = schema?.safeParse(exchange.responseBody);
      expect(parsed?.error?.issues ?? [], `${op?.name} ${exchange.status}`).toEqual([]);
    }
  });

  it('reads issue fields of the documented shapes', () => {
    const issues = exchanges.flatMap((e) => {
      const body = e.responseBody as { issues?: unknown[]; fields?: unknown } | undefined;
      if (e.status !== 200 || body === undefined) return [];
      return body.issues ?? (body.fields ? [body] : []);
    });
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      const parsed = IssueFieldsRead.safeParse((issue as { fields?: unknown }).fields);
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
  });

  it('creates issues with the fields the sync relies on, in their documented forms', () => {
    const create = exchanges.find((e) => e.method === 'POST' && e.path === '/rest/api/3/issue');
    expect(create?.requestBody).toEqual({
      fields: {
        project: { key: 'SEC' },
        issuetype: { name: 'Task' },
        summary: 'ESET incident',
        description: expect.objectContaining({ type: 'doc', version: 1 }),
        labels: ['eset-incident-123e4567-e89b-12d3-a456-426614174000'],
      },
    });
    const transition = exchanges.find((e) => e.method === 'POST' && e.path.endsWith('/transitions'));
    expect(transition?.requestBody).toEqual({ transition: { id: '31' } });
  });
});
