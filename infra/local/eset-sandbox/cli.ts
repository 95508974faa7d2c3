/**
 * `npm run sandbox`: runs the ESET sandbox as its own process so the local stack (and people
 * with curl) can talk to it. Prints `ready {json}` once, then one line per request.
 */
import { randomUUID } from 'node:crypto';
import { loadSandboxCliConfig, type SandboxCliConfig } from './cli-config';
import { createEsetSandbox } from './sandbox';

let config: SandboxCliConfig;
try {
  config = loadSandboxCliConfig();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

const sandbox = await createEsetSandbox({
  port: config.port,
  username: config.username,
  password: config.password,
  ...(config.faults === undefined ? {} : { faults: config.faults }),
  onRequest: (event) => {
    // State polling by test tools would drown the log; every other request is worth a line.
    if (event.kind === 'admin' && event.path.startsWith('/_sandbox/state')) return;
    console.log(`${event.method} ${event.path} -> ${event.status}`);
  },
});

const incidents = Array.from({ length: config.seedIncidents }, () => randomUUID());
for (const uuid of incidents) sandbox.addIncident(uuid);
console.log(`ready ${JSON.stringify({ url: sandbox.url, username: config.username, incidents })}`);

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
