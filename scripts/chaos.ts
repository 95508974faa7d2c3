/**
 * `npm run chaos [-- --incidents N --seed S --senders C --crash --repeat-applies --mixed --no-faults
 *   --bridge-log FILE]`: see scripts/chaos/run.ts.
 * Exits non-zero when a request was lost or an incident closed twice.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
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
});
const number = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive whole number`);
    process.exit(2);
  }
  return n;
};

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
