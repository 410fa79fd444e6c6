import { GetMetricStatisticsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/** The queue's name, the last part of its URL. */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

/**
 * The age of a queue's oldest message in seconds, from CloudWatch's `ApproximateAgeOfOldestMessage` (SQS's API
 * has no such figure): the latest one-minute maximum of the last 10 minutes, or undefined when none was reported.
 */
export async function oldestMessageAge(
  cloudwatch: CloudWatchClient,
  queueUrl: string,
  now = new Date(),
): Promise<number | undefined> {
  const answer = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueNameOf(queueUrl) }],
      StartTime: new Date(now.getTime() - 10 * 60_000),
      EndTime: now,
      Period: 60,
      Statistics: ['Maximum'],
    }),
  );
  const latest = (answer.Datapoints ?? [])
    .filter((d) => d.Timestamp !== undefined && d.Maximum !== undefined)
    .sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
  return latest?.Maximum;
}
