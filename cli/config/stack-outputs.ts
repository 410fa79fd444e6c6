import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { UsageError } from '../exit-codes.ts';

/** serverless.yml names a stage's stack `${service}-${stage}`. */
export function stackName(stage: string): string {
  return `${DEFAULTS.service}-${stage}`;
}

/** The outputs of a deployed stage's CloudFormation stack, by output key (`IntakeQueueUrl`, `IdempotencyTableName`, …). */
export async function readStackOutputs(
  client: CloudFormationClient,
  stage: string,
): Promise<ReadonlyMap<string, string>> {
  const name = stackName(stage);
  let answer;
  try {
    answer = await client.send(new DescribeStacksCommand({ StackName: name }));
  } catch (error: unknown) {
    if (error instanceof Error && error.name === 'ValidationError')
      throw new UsageError(
        `--stage ${stage}: no CloudFormation stack named ${name} in this region (deploy it, or check --region)`,
      );
    throw error;
  }
  const stack = answer.Stacks?.[0];
  if (stack === undefined) throw new UsageError(`--stage ${stage}: no CloudFormation stack named ${name}`);
  return new Map(
    (stack.Outputs ?? []).flatMap((o) =>
      o.OutputKey === undefined || o.OutputValue === undefined ? [] : [[o.OutputKey, o.OutputValue] as const],
    ),
  );
}
