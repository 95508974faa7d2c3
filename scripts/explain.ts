/**
 * `npm run explain -- --route /jira payload.json [--config senders.json]`: a dry run of one route's
 * adapter. Loads SENDERS_CONFIG from the environment (or `--config`), reads the payload (a file, or
 * standard input with `-`), and prints what the adapter extracted (action, incident, reason,
 * comment, ticket, occurredAt, actor, eventId) or why it ignored or refused the body. No signature
 * is checked and nothing is sent to ESET.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BadRequestError } from '../functions/errors/errors';
import { buildRouteTable, parseSendersConfig } from '../functions/senders/routes';

const USAGE = 'usage: npm run explain -- --route /jira payload.json [--config senders.json]';

export interface ExplainIo {
  env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): string;
  out(line: string): void;
}

/** Runs the dry run; returns the exit code (0 event or ignored, 1 refused, 2 usage or configuration). */
export function explain(argv: readonly string[], io: ExplainIo): number {
  let values: { route?: string; config?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { route: { type: 'string' }, config: { type: 'string' } },
      allowPositionals: true,
    }));
  } catch (err) {
    io.out(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const file = positionals[0];
  if (!values.route || !file || positionals.length > 1) {
    io.out(USAGE);
    return 2;
  }
  let table: ReturnType<typeof buildRouteTable>;
  try {
    const config = values.config ? io.readFile(values.config) : io.env.SENDERS_CONFIG;
    table = config ? parseSendersConfig(config) : buildRouteTable();
  } catch (err) {
    io.out(`configuration: ${(err as Error).message}`);
    return 2;
  }
  const route = table.find(values.route);
  if (!route) {
    io.out(`no route ${values.route} (routes: ${table.routes.map((r) => r.path).join(', ')})`);
    return 2;
  }
  let body: unknown;
  try {
    body = JSON.parse(io.readFile(file));
  } catch (err) {
    io.out(`refused (400): the payload is not JSON (${(err as Error).message})`);
    return 1;
  }
  io.out(
    `route ${route.path}: adapter ${route.adapter.name}, authentication ${route.auth.scheme} (not checked here)`,
  );
  try {
    const adapted = route.adapter.adapt(body);
    if (adapted.kind === 'ignore') {
      io.out(`ignored (200): ${adapted.reason}`);
      if (adapted.ticketId) io.out(`  ticketId       ${adapted.ticketId}`);
      return 0;
    }
    const e = adapted.event;
    io.out(`event: ${e.action}`);
    const rows: [string, string | undefined][] = [
      ['incidentUuid', e.incidentUuid],
      ['closureReason', e.closureReason],
      ['comment', e.comment],
      ['ticketId', e.ticketId],
      ['occurredAt', e.occurredAt],
      ['actor', e.actor],
      ['eventId', e.eventId],
    ];
    for (const [name, value] of rows) {
      if (value !== undefined)
        io.out(`  ${name.padEnd(14)} ${value.replaceAll('\n', '\n                 ')}`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    io.out(`refused (${err.statusCode}): ${err.message}`);
    for (const d of (err.details ?? []) as { path: string; message: string }[])
      io.out(`  ${d.path}: ${d.message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = explain(process.argv.slice(2), {
    env: process.env,
    readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
    out: (line) => console.log(line),
  });
}
