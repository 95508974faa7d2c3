import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type FunctionUrlHandler, functionUrlListener, requestTime } from '../../infra/local/http-adapter';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `handler` through the adapter and records the events it receives. */
async function serve(
  handler: FunctionUrlHandler = async () => ({ statusCode: 204 }),
  opts: Parameters<typeof functionUrlListener>[1] = {},
) {
  const events: APIGatewayProxyEventV2[] = [];
  const contexts: { awsRequestId: string }[] = [];
  server = createServer(
    functionUrlListener(async (event, context) => {
      events.push(event);
      contexts.push(context);
      return handler(event, context);
    }, opts),
  );
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, port, events, contexts };
}

/** A raw request, so tests control repeated headers and exact bytes. */
function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    for (const [name, value] of Object.entries(opts.headers ?? {})) req.setHeader(name, value);
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('functionUrlListener: the event', () => {
  it('builds a payload v2 event with lower-cased, comma-joined headers and split cookies', async () => {
    const { base, port, events } = await serve();

    await send(`${base}/hooks/eset?a=1&a=2&b=x%20y`, {
      headers: {
        'Content-Type': 'application/json',
        'X-Repeated': ['one', 'two'],
        'User-Agent': 'jira-webhooks/1.0',
        Cookie: 'c1=v1; c2=v2',
      },
      body: '{"incidentUuid":"x"}',
    });

    const event = events[0] as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/hooks/eset',
      rawQueryString: 'a=1&a=2&b=x%20y',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"incidentUuid":"x"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: 'anonymous',
        domainName: `127.0.0.1:${port}`,
        routeKey: '$default',
        stage: '$default',
        http: {
          method: 'POST',
          path: '/hooks/eset',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'jira-webhooks/1.0',
        },
      },
    });
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'x-repeated': 'one,two',
      'user-agent': 'jira-webhooks/1.0',
      host: `127.0.0.1:${port}`,
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('gives each request its own request id, time and epoch, shared with the context', async () => {
    const { base, events, contexts } = await serve();
    const before = Date.now();

    await send(base, { method: 'GET' });
    await send(base, { method: 'GET' });

    const [first, second] = events as [APIGatewayProxyEventV2, APIGatewayProxyEventV2];
    expect(first.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.requestContext.requestId).not.toBe(second.requestContext.requestId);
    expect(contexts[0]?.awsRequestId).toBe(first.requestContext.requestId);
    expect(first.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(first.requestContext.timeEpoch).toBeLessThanOrEqual(Date.now());
    expect(first.requestContext.time).toBe(requestTime(first.requestContext.timeEpoch));
    expect(first.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('leaves out body, query and cookies when the request has none', async () => {
    const { base, events } = await serve();

    await send(`${base}/`, { method: 'GET' });

    const event = events[0] as APIGatewayProxyEventV2;
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('cookies');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.http.method).toBe('GET');
  });

  it('passes a binary body base64-encoded with isBase64Encoded', async () => {
    const { base, events } = await serve();
    const bytes = Buffer.from([0xff, 0x00, 0x10, 0x80]);

    await send(base, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });

    const event = events[0] as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('base64-encodes a JSON body that is not valid UTF-8 rather than mangling its bytes', async () => {
    const { base, events } = await serve();
    const bytes = Buffer.concat([Buffer.from('{"comment":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);

    await send(base, { headers: { 'content-type': 'application/json' }, body: bytes });

    const event = events[0] as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('passes a UTF-8 JSON body as text, byte for byte', async () => {
    const { base, events } = await serve();
    const body = '{"comment":"Schadcode entfernt – Ticket №42 ✓"}';

    await send(base, { headers: { 'content-type': 'application/json; charset=utf-8' }, body });

    expect(events[0]?.body).toBe(body);
    expect(events[0]?.isBase64Encoded).toBe(false);
  });

  it('refuses a body over the size limit with 413 without invoking the handler', async () => {
    const { base, events } = await serve(undefined, { maxRequestBytes: 1024 });

    const res = await send(base, { headers: { 'content-type': 'application/json' }, body: 'x'.repeat(4096) });

    expect(res.status).toBe(413);
    expect(events).toHaveLength(0);
  });
});

describe('functionUrlListener: the answer', () => {
  it('writes status, headers, cookies and body of a structured result', async () => {
    const { base } = await serve(async () => ({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'x-count': 3 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '{"status":"queued"}',
    }));

    const res = await send(base);

    expect(res.status).toBe(202);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-count']).toBe('3');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(res.body.toString()).toBe('{"status":"queued"}');
  });

  it('decodes a base64 result body', async () => {
    const bytes = Buffer.from([1, 2, 3, 250]);
    const { base } = await serve(async () => ({
      statusCode: 200,
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    }));

    const res = await send(base);

    expect(res.body.equals(bytes)).toBe(true);
  });

  it('answers 200 JSON for a result that is not structured, as Lambda infers', async () => {
    const { base } = await serve(async () => ({ hello: 'world' }) as unknown as APIGatewayProxyResultV2);

    const res = await send(base);

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({ hello: 'world' });
  });

  it('answers 502 without details when the handler throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const { base } = await serve(
      async () => {
        throw new Error('secret detail');
      },
      { onError: (err) => errors.push(err) },
    );

    const res = await send(base);

    expect(res.status).toBe(502);
    expect(res.body.toString()).not.toContain('secret detail');
    expect(errors).toHaveLength(1);
  });
});
