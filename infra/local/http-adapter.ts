/**
 * Stands in for a Lambda Function URL: turns a node:http request into the payload v2 event that
 * AWS delivers and the handler's result into the HTTP answer, so the receive Lambda runs locally
 * exactly as deployed.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/** A Function URL handler; `context` carries only what the bridge's handlers read. */
export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: { awsRequestId: string },
) => Promise<APIGatewayProxyResultV2>;

export interface FunctionUrlOptions {
  /** Function URLs refuse request payloads over 6 MB before the function runs. */
  maxRequestBytes?: number;
  clock?: () => number;
  requestId?: () => string;
  /** Told about a handler that threw (the caller answers 502, as Lambda does). */
  onError?: (err: unknown, event: APIGatewayProxyEventV2) => void;
}

export const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Content types Lambda passes as text; everything else arrives base64-encoded. */
const TEXT_TYPES = [
  /^text\//,
  /^application\/(json|javascript|xml|yaml|x-www-form-urlencoded)$/,
  /^application\/[^;]+\+(json|xml)$/,
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `27/Nov/2026:02:32:07 +0000`, the request context's `time`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

function isText(contentType: string | undefined, body: Buffer): boolean {
  if (!contentType) return false;
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (!TEXT_TYPES.some((re) => re.test(type))) return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset.replace(/"/g, ''))) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the payload v2 event of one request: headers lower-cased with repeated ones joined by
 * commas, cookies split out of the `cookie` header, the raw path and query, and the body as text
 * when its content type is text and it is valid UTF-8, else base64 with `isBase64Encoded`.
 */
export function toFunctionUrlEvent(
  req: IncomingMessage,
  body: Buffer,
  opts: { now: number; requestId: string },
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQueryString = q === -1 ? '' : url.slice(q + 1);
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[key] =
      key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
  }
  const host = headers.host ?? 'localhost';
  const domainPrefix = host.split(':')[0]?.split('.')[0] ?? 'localhost';
  const text = isText(headers['content-type'], body);
  const source = req.socket.remoteAddress ?? '127.0.0.1';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString !== '' ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: domainPrefix,
      domainName: host,
      domainPrefix,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: source.startsWith('::ffff:') ? source.slice('::ffff:'.length) : source,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: opts.requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(opts.now),
      timeEpoch: opts.now,
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/**
 * Writes a handler's result as Lambda does for Function URLs: a structured result gives status,
 * headers, cookies and body (decoded when `isBase64Encoded`); anything else is a 200 JSON answer.
 */
export function writeFunctionUrlResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || typeof result.statusCode !== 'number') {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

function answerJson(res: ServerResponse, status: number, message: string, close = false): void {
  const body = JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** A node:http request listener that invokes `handler` once per request, Function URL style. */
export function functionUrlListener(
  handler: FunctionUrlHandler,
  opts: FunctionUrlOptions = {},
): RequestListener {
  const maxBytes = opts.maxRequestBytes ?? FUNCTION_URL_MAX_REQUEST_BYTES;
  const clock = opts.clock ?? Date.now;
  const newId = opts.requestId ?? randomUUID;
  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        refused = true;
        answerJson(
          res,
          413,
          `Request must be smaller than ${maxBytes} bytes for the InvokeFunction operation`,
          true,
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (refused) return;
      const now = clock();
      const requestId = newId();
      const event = toFunctionUrlEvent(req, Buffer.concat(chunks), { now, requestId });
      Promise.resolve()
        .then(() => handler(event, { awsRequestId: requestId }))
        .then((result) => writeFunctionUrlResult(res, result))
        .catch((err: unknown) => {
          // Lambda answers 502 when the function fails; the details stay in the function's logs.
          opts.onError?.(err, event);
          if (res.headersSent) res.destroy();
          else answerJson(res, 502, 'Internal Server Error');
        });
    });
  };
}
