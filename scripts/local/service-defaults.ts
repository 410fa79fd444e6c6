/**
 * The figures of serverless.yml (`params.default` and the queue resources) that a local run needs.
 * They are copied, not parsed, so a local run starts without the framework; test/deploy/package.test.ts
 * fails when the copy and the packaged template disagree.
 */
export const serviceDefaults = {
  service: 'tim-attr-gateway',
  workerBatchSize: 100,
  workerBatchingWindowSeconds: 1,
  workerTimeoutSeconds: 60,
  workerMaxConcurrency: 5,
  overflowVisibilityTimeoutSeconds: 360,
  maxReceiveCount: 5,
  dlqRetentionSeconds: 1_209_600,
  overflowRetentionSeconds: 345_600,
} as const;

/** Queue names of a stage, as serverless.yml names them. */
export function queueNames(stage: string): { readonly overflow: string; readonly deadLetter: string } {
  return {
    overflow: `${serviceDefaults.service}-${stage}-overflow`,
    deadLetter: `${serviceDefaults.service}-${stage}-dlq`,
  };
}
