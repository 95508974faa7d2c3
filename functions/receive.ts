/** Lambda entry: the webhook receiver behind the Function URL. */
import { createBridge } from './bridge';
import { loadConfig } from './config/config';
import { makeReceiveHandler } from './handlers/receive-handler';
import { idempotencyOverrides } from './idempotency/dynamodb-guard';

const config = loadConfig(process.env, { webhookSecret: true, retryQueue: true });
const bridge = createBridge(config, idempotencyOverrides(config));

export const handler = makeReceiveHandler(bridge.receive);
