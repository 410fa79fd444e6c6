import { createWorkerHandler } from '../lib/service/lambda-handlers.ts';
import { services } from '../lib/service/services.ts';

/** SQS: the FIFO lanes and intake queues, with ReportBatchItemFailures. */
export const handler = createWorkerHandler(services());
