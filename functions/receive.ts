/** Lambda entry: the webhook receiver behind the Function URL. */
import { createBridge } from './bridge';
import { loadConfig } from './config/config';
import { makeReceiveHandler } from './handlers/receive-handler';

// The dead-letter queue too: a session may find earlier work of the incident refused for good.
const config = loadConfig(process.env, {
  webhookSecret: true,
  retryQueue: true,
  deadLetterQueue: true,
  stateTable: true,
});

export const handler = makeReceiveHandler(createBridge(config).receive);
