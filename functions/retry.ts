/** Lambda entry: drains the SQS retry queue (event source mapping, ReportBatchItemFailures). */
import { createBridge } from './bridge';
import { loadConfig } from './config/config';
import { makeRetryHandler } from './handlers/retry-handler';

const config = loadConfig(process.env, { retryQueue: true, deadLetterQueue: true, stateTable: true });

export const handler = makeRetryHandler(createBridge(config).retry);
