import { createWorkerHandler } from '../lib/service/lambda-handlers.ts';
import { workerServices } from '../lib/service/worker-services.ts';

/** SQS: the FIFO lanes and intake queues, with ReportBatchItemFailures. */
export const handler = createWorkerHandler(workerServices());
