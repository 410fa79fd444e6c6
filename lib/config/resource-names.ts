import DEFAULTS from './defaults.json' with { type: 'json' };

/** The names serverless.yml gives a stage's queues and table; the figures are in lib/config/defaults.json. */
export interface ResourceNames {
  /** The FIFO queue of the lanes (one message group per lane). */
  readonly lanes: string;
  /** The FIFO queue other producers send to. */
  readonly intake: string;
  readonly deadLetter: string;
  /** The DynamoDB table of idempotency records. */
  readonly idempotencyTable: string;
  /** The DynamoDB table of the fleet's shared IM budget (one slot-grid item per IM command). */
  readonly budgetTable: string;
  /** The metrics' and logs' `service` of the stage (POWERTOOLS_SERVICE_NAME), the same for both functions. */
  readonly metricsService: string;
}

/** A stage's resource names, as serverless.yml spells them (`${service}-${stage}-…`). */
export function resourceNames(stage: string, service: string = DEFAULTS.service): ResourceNames {
  return {
    lanes: `${service}-${stage}-lanes.fifo`,
    intake: `${service}-${stage}-intake.fifo`,
    deadLetter: `${service}-${stage}-dlq`,
    idempotencyTable: `${service}-${stage}-idempotency`,
    budgetTable: `${service}-${stage}-budget`,
    metricsService: `${service}-${stage}`,
  };
}
