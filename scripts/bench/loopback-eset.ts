/**
 * A minimal, fast stand-in for ESET Connect on loopback: the token endpoint and `:close`, nothing
 * else, answered from constants. The benchmarks measure the bridge, so the stand-in must cost as
 * little as possible; the faithful, fault-injectable stand-in is infra/local/eset-sandbox.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOOPBACK_TOKEN = 'bench-access-token';

export interface LoopbackEset {
  url: string;
  /** Requests answered, by endpoint. */
  counts: { token: number; close: number; other: number };
  close(): Promise<void>;
}

const TOKEN_BODY = JSON.stringify({
  access_token: LOOPBACK_TOKEN,
  refresh_token: 'bench-refresh-token',
  token_type: 'Bearer',
  expires_in: 3600,
});

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'request-id': 'bench',
  });
  res.end(body);
}

/** Starts the stand-in; `tokenDelayMs` holds token answers so concurrent callers overlap. */
export async function startLoopbackEset(opts: { tokenDelayMs?: number } = {}): Promise<LoopbackEset> {
  const counts = { token: 0, close: 0, other: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Drain the body without buffering it; the answer does not depend on it.
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/oauth/token') {
        counts.token += 1;
        if (opts.tokenDelayMs) setTimeout(() => answer(res, 200, TOKEN_BODY), opts.tokenDelayMs);
        else answer(res, 200, TOKEN_BODY);
      } else if (req.method === 'POST' && url.endsWith(':close')) {
        counts.close += 1;
        answer(res, 200, '{}');
      } else {
        counts.other += 1;
        answer(res, 404, '{"code":5,"message":"not found"}');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
