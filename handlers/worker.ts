import { createWorkerHandler } from '../lib/service/lambda-handlers.ts';
import { services } from '../lib/service/services.ts';

/** SQS: the overflow queue, with ReportBatchItemFailures. */
export const handler = createWorkerHandler(services());
