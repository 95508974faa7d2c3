/**
 * `npm run chaos [-- --incidents N --seed S --senders C --crash --repeat-applies --mixed --no-faults
 *   --bridge-log FILE]`: see scripts/chaos/run.ts.
 * Exits non-zero when a request was lost or an incident closed twice.
 */
import { parseCli, positiveInt } from './cli';

const USAGE = `usage: npm run chaos [-- options]
  --incidents N      incidents to drive (default 1000)
  --seed S           the fault mix's and the schedule's seed (default 42)
  --senders C        concurrent senders (default 20)
  --crash            SIGKILL the bridge after 40 % of the answers, then restart it
  --repeat-applies   ESET applies every repeated close, reopen and comment again
  --mixed            each incident gets a shuffled life of closes, reopens and comments
  --no-faults        ESET answers every call at once (only the rate limit is left)
  --bridge-log FILE  append the bridge's INFO log to FILE
  --json             also print the report as one JSON line
Exits 1 when a request was lost or an incident closed twice.`;

const values = parseCli(
  {
    incidents: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    senders: { type: 'string', default: '20' },
    crash: { type: 'boolean', default: false },
    'repeat-applies': { type: 'boolean', default: false },
    mixed: { type: 'boolean', default: false },
    // ESET answers every call at once: what is left to see is the pacing under the rate limit.
    'no-faults': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // The bridge's INFO log (every outcome) appended to this file: the trace of a failed run.
    'bridge-log': { type: 'string' },
  },
  USAGE,
);
const number = (name: string, v: string | undefined) => positiveInt(name, v, USAGE);

// The SDK's notice about its future Node.js 22 requirement is noise in this report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';
const { formatReport, runChaos } = await import('./chaos/run');

const report = await runChaos({
  incidents: number('incidents', values.incidents),
  seed: number('seed', values.seed),
  senders: number('senders', values.senders),
  ...(values.crash ? { crashAt: 0.4 } : {}),
  ...(values['repeat-applies'] ? { repeatApplies: true } : {}),
  ...(values.mixed ? { mixed: true } : {}),
  ...(values['no-faults'] ? { mix: { ok: 1 } } : {}),
  ...(values['bridge-log'] ? { bridgeLog: values['bridge-log'] } : {}),
  log: (line) => console.error(`chaos: ${line}`),
});
console.log(formatReport(report));
if (values.json) console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
