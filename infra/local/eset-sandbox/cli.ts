/**
 * `npm run sandbox`: runs the ESET sandbox as its own process so the local stack (and people
 * with curl) can talk to it. Prints `ready {json}` once, then one line per request.
 * `npm run sandbox -- --help` prints the flags and environment variables.
 */
import { randomUUID } from 'node:crypto';
import { loadSandboxCliConfig, SANDBOX_USAGE, type SandboxCliConfig } from './cli-config';
import { createEsetSandbox } from './sandbox';

let config: SandboxCliConfig;
try {
  config = loadSandboxCliConfig(process.env, process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(`\n${SANDBOX_USAGE}`);
  process.exit(1);
}
if (config.help) {
  console.log(SANDBOX_USAGE);
  process.exit(0);
}

const sandbox = await createEsetSandbox({
  port: config.port,
  username: config.username,
  password: config.password,
  ...(config.faults === undefined ? {} : { faults: config.faults }),
  ...(config.repeatApplies ? { repeatApplies: true } : {}),
  ...(config.pendingDelayMs === undefined ? {} : { pendingDelayMs: config.pendingDelayMs }),
  onRequest: (event) => {
    // State polling by test tools would drown the log; every other request is worth a line.
    if (event.kind === 'admin' && event.path.startsWith('/_sandbox/state')) return;
    console.log(`${event.method} ${event.path} -> ${event.status}`);
  },
});

const incidents = Array.from({ length: config.seedIncidents }, () => randomUUID());
for (const uuid of incidents) sandbox.addIncident(uuid);
console.log(
  `ready ${JSON.stringify({ url: sandbox.url, username: config.username, userUuid: sandbox.userUuid(), incidents })}`,
);

const stop = (signal: NodeJS.Signals) => {
  console.log(`stopping on ${signal}`);
  sandbox.close().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error('eset-sandbox: close failed', error);
      process.exitCode = 1;
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
