import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { EsetRequests } from '../../functions/eset/client';
import {
  CloseIncidentResponse,
  CreateIncidentCommentResponse,
  DeleteIncidentCommentResponse,
  GetIncidentCommentResponse,
  GetIncidentResponse,
  IdHeader,
  Incident,
  IncidentCommentsCreateIncidentCommentBody,
  IncidentCommentsUpdateIncidentCommentTextBody,
  IncidentsCloseIncidentBody,
  IncidentsReopenIncidentBody,
  LIST_INCIDENTS_LIMITS,
  ListIncidentCommentsResponse,
  ListIncidentsQuery,
  ListIncidentsResponse,
  ReopenIncidentResponse,
  RpcStatus,
  UpdateIncidentCommentTextResponse,
} from './eset-contract';
import { clientFor, INCIDENT, OTHER, token, useSandbox } from './sandbox-client';

const harness = useSandbox();

/** Checks a 2xx answer: status, JSON content type, request-id, and the body against the schema. */
async function expectAnswer<T extends z.ZodType>(
  res: Response,
  status: number,
  schema: T,
): Promise<z.infer<T>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(IdHeader.safeParse(res.headers.get('request-id')).success).toBe(true);
  const parsed = schema.safeParse(await res.json());
  if (!parsed.success) throw new Error(`answer does not match the spec: ${parsed.error.message}`);
  return parsed.data;
}

/** Checks an error answer: its status and a google.rpc.Status body. */
async function expectRpcError(res: Response, status: number): Promise<void> {
  expect(res.status).toBe(status);
  const parsed = RpcStatus.safeParse(await res.json());
  if (!parsed.success) throw new Error(`error body is no rpcStatus: ${parsed.error.message}`);
}

/** A request body, checked against the spec before it is sent. */
function body<T extends z.ZodType>(schema: T, value: z.input<T>): z.input<T> {
  schema.parse(value);
  return value;
}

/**
 * What the sandbox promises beyond the spec (which requires nothing): the fields the bridge
 * reads are always there.
 */
const AnsweredIncident = Incident.required({
  uuid: true,
  displayName: true,
  status: true,
  severity: true,
  resolveReason: true,
  createTime: true,
  updateTime: true,
});

async function started() {
  const sb = await harness.start({ rateLimitPerSecond: 0 });
  for (let n = 0; n < 5; n += 1) {
    sb.addIncident(`00000000-0000-4000-8000-00000000000${n}`, 'INCIDENT_STATUS_OPEN', {
      severity: 'INCIDENT_SEVERITY_LEVEL_HIGH',
      displayName: `Incident ${n}`,
      description: 'seeded',
    });
  }
  sb.addIncident(INCIDENT);
  return { sb, client: clientFor(sb, await token(sb)) };
}

describe("the sandbox's answers match ESET's published contract", () => {
  it('get incident', async () => {
    const { client } = await started();

    const { incident } = await expectAnswer(await client.get(INCIDENT), 200, GetIncidentResponse);

    expect(AnsweredIncident.safeParse(incident).success).toBe(true);
  });

  it('list incidents, page by page, within the query limits', async () => {
    const { client } = await started();
    const query = body(ListIncidentsQuery, {
      filter: 'severity = "INCIDENT_SEVERITY_LEVEL_HIGH"',
      orderBy: 'update_time desc, display_name',
      pageSize: 2,
    });

    const pages = [];
    let pageToken = '';
    do {
      const res = await client.list({
        filter: query.filter ?? '',
        orderBy: query.orderBy ?? '',
        pageSize: String(query.pageSize),
        ...(pageToken === '' ? {} : { pageToken }),
      });
      const page = await expectAnswer(res, 200, ListIncidentsResponse);
      pages.push(page);
      pageToken = page.nextPageToken ?? '';
      expect(ListIncidentsQuery.safeParse({ pageToken }).success).toBe(true);
    } while (pageToken !== '');

    expect(pages.map((page) => page.incidents?.length)).toEqual([2, 2, 1]);
    for (const incident of pages.flatMap((page) => page.incidents ?? [])) {
      expect(AnsweredIncident.safeParse(incident).success).toBe(true);
      expect(incident).not.toHaveProperty('detectionUuids');
    }
  });

  it('close and reopen', async () => {
    const { client } = await started();

    const close = await client.close(
      INCIDENT,
      body(IncidentsCloseIncidentBody, {
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        finalComment: { text: 'Resolved in T-1' },
      }),
    );
    const reopen = await client.reopen(
      INCIDENT,
      body(IncidentsReopenIncidentBody, { comment: { text: 'Reopened in T-1' } }),
    );

    await expectAnswer(close, 200, CloseIncidentResponse);
    await expectAnswer(reopen, 200, ReopenIncidentResponse);
  });

  it('comments: create, list, get, update the text, delete', async () => {
    const { client } = await started();
    const base = `/v2/incidents/${INCIDENT}/comments`;

    const created = await expectAnswer(
      await client.send('POST', base, {
        body: body(IncidentCommentsCreateIncidentCommentBody, { comment: { text: 'Ticket T-1 opened' } }),
      }),
      200,
      CreateIncidentCommentResponse,
    );
    const path = `${base}/${created.comment?.uuid}`;
    const listed = await expectAnswer(await client.send('GET', base), 200, ListIncidentCommentsResponse);
    const read = await expectAnswer(await client.send('GET', path), 200, GetIncidentCommentResponse);
    await expectAnswer(
      await client.send('POST', `${path}/text:update`, {
        body: body(IncidentCommentsUpdateIncidentCommentTextBody, { text: 'Ticket T-1 in progress' }),
      }),
      200,
      UpdateIncidentCommentTextResponse,
    );
    await expectAnswer(await client.send('DELETE', path), 200, DeleteIncidentCommentResponse);

    expect(listed.comments).toEqual([created.comment]);
    expect(read.comment).toEqual(created.comment);
  });

  it('202 with a response-id and an empty body, then the cached answer on the identical re-send', async () => {
    const { sb, client } = await started();
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 0 }]);
    const closeBody = { finalComment: { text: 'x' } };

    const pending = await client.close(INCIDENT, closeBody);
    const responseId = pending.headers.get('response-id');
    const resend = await client.close(INCIDENT, closeBody, { 'response-id': responseId ?? '' });

    expect(pending.status).toBe(202);
    expect(IdHeader.safeParse(responseId).success).toBe(true);
    expect(await pending.text()).toBe('');
    await expectAnswer(resend, 200, CloseIncidentResponse);
  });

  it('errors carry a google.rpc.Status body', async () => {
    const { sb, client } = await started();
    sb.addIncident(OTHER, 'INCIDENT_STATUS_CLOSED');
    sb.consoleComment(INCIDENT, 'by someone else');
    const foreign = sb.state().incidents[INCIDENT]?.comments[0]?.uuid;

    await expectRpcError(await client.close(OTHER), 400);
    await expectRpcError(await client.reopen(INCIDENT), 400);
    await expectRpcError(await client.close(INCIDENT, '{'), 400);
    await expectRpcError(
      await client.list({ filter: 'x'.repeat(LIST_INCIDENTS_LIMITS.filterMaxLength + 1) }),
      400,
    );
    await expectRpcError(await client.list({ orderBy: 'assignee_uuid' }), 400);
    await expectRpcError(await client.get('00000000-0000-4000-8000-000000000099'), 404);
    await expectRpcError(await client.send('GET', `/v2/incidents/${INCIDENT}/comments/${OTHER}`), 404);
    await expectRpcError(await client.close(INCIDENT, {}, { 'response-id': OTHER }), 404);
    await expectRpcError(await client.send('DELETE', `/v2/incidents/${INCIDENT}/comments/${foreign}`), 403);
  });
});

describe('the contract schemas', () => {
  it('refuse a misspelt or an unlisted field where the spec lists every property', () => {
    expect(Incident.safeParse({ uuid: 'u', severty: 'INCIDENT_SEVERITY_LEVEL_LOW' }).success).toBe(false);
    expect(Incident.safeParse({ severity: 'INCIDENT_SEVERITY_MEDIUM' }).success).toBe(false);
    expect(CloseIncidentResponse.safeParse({ ok: true }).success).toBe(false);
    expect(
      RpcStatus.safeParse({ code: 3, message: 'x', details: [{ '@type': 't', value: {} }] }).success,
    ).toBe(true);
  });

  it('refuse read-only comment fields in request bodies, as the help page example sends them', () => {
    const example = {
      closureReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
      finalComment: { isFinalComment: true, text: 'x' },
    };

    expect(IncidentsCloseIncidentBody.safeParse(example).success).toBe(false);
    expect(
      IncidentCommentsCreateIncidentCommentBody.safeParse({ comment: { authorUuid: 'me', text: 'x' } })
        .success,
    ).toBe(false);
  });

  it('accept every request body the bridge sends: close, reopen (with and without a comment), comment', () => {
    const body = (r: { body?: string }) => JSON.parse(r.body ?? '{}') as unknown;
    const close = EsetRequests.close(
      INCIDENT,
      'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      'Benign admin tool.',
    );
    expect(IncidentsCloseIncidentBody.safeParse(body(close)).success).toBe(true);
    for (const reopen of [EsetRequests.reopen(INCIDENT, 'New evidence.'), EsetRequests.reopen(INCIDENT)]) {
      expect(IncidentsReopenIncidentBody.safeParse(body(reopen)).success).toBe(true);
    }
    const comment = EsetRequests.comment(INCIDENT, 'Jira SEC-1 comment: seen on two more hosts.');
    expect(IncidentCommentsCreateIncidentCommentBody.safeParse(body(comment)).success).toBe(true);
    expect([close.path, comment.path]).toEqual([
      `/v2/incidents/${INCIDENT}:close`,
      `/v2/incidents/${INCIDENT}/comments`,
    ]);
  });
});
