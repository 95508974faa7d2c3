/** Lambda entry: the webhook receiver behind the Function URL. */
import { createBridge } from './bridge';
import { loadConfig } from './config/config';
import { makeReceiveHandler } from './handlers/receive-handler';

const config = loadConfig(process.env, { webhookSecret: true, retryQueue: true, stateTable: true });

export const handler = makeReceiveHandler(createBridge(config).receive);
