/** Lambda entry: the ESET-to-ticket sync, run by an EventBridge schedule every SYNC_INTERVAL_SECONDS. */
import { systemClock } from './clock/clock';
import { loadConfig } from './config/config';
import { makeSyncHandler } from './handlers/sync-handler';
import { createObservability } from './observability/observability';
import { createSync } from './sync/compose';

const config = loadConfig(process.env, { stateTable: true, sync: true });

export const handler = makeSyncHandler({
  ...createObservability(),
  sync: createSync(config),
  clock: systemClock,
});
