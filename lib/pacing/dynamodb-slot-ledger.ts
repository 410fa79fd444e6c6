/**
 * The slot grid in DynamoDB: one item per IM command (`id` = `grid#<command>`), with `bookedUntil` (epoch ms)
 * and, after a rate-limit answer, `penaltyRate` and `penalizedAt`. A lease is one conditional UpdateItem:
 *
 * - idle grid (`bookedUntil` ≤ now or absent): `SET bookedUntil = now + k·spacing`, slots start now;
 * - busy grid: `SET bookedUntil = bookedUntil + k·spacing` if that stays within the horizon.
 *
 * DynamoDB has no max(), so the two cases are two condition expressions; the ledger tries the one the
 * grid's last known state suggests and, when its condition fails, the other. Both failing means the grid
 * is booked past the horizon.
 */
import {
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { GridPenalty, LeaseRequest, LeaseResult, SlotLedger } from './slot-ledger.ts';

export interface DynamoDbSlotLedgerOptions {
  /** A client with a short timeout and no retries: a lease must never hold up calls. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

type Item = Record<string, AttributeValue>;

const num = (value: number): AttributeValue => ({ N: String(value) });
const readNumber = (item: Item | undefined, name: string): number | undefined => {
  const text = item?.[name]?.N;
  return text === undefined ? undefined : Number(text);
};

export class DynamoDbSlotLedger implements SlotLedger {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  /** Per command, the end of the booked grid as last seen: picks which condition to try first. */
  readonly #bookedUntil = new Map<string, number>();

  constructor(options: DynamoDbSlotLedgerOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async lease(request: LeaseRequest): Promise<LeaseResult> {
    const idleFirst = (this.#bookedUntil.get(request.command) ?? 0) <= request.nowMs;
    for (const idle of idleFirst ? [true, false] : [false, true]) {
      const item = await this.#book(request, idle);
      if (item === undefined) continue;
      const bookedUntil = readNumber(item, 'bookedUntil') ?? 0;
      this.#bookedUntil.set(request.command, bookedUntil);
      return { kind: 'leased', firstSlotMs: bookedUntil - request.count * request.spacingMs, penalty: penaltyOf(item) };
    }
    // Neither idle nor within the horizon: booked far ahead by the rest of the fleet.
    this.#bookedUntil.set(request.command, Number.POSITIVE_INFINITY);
    return { kind: 'full' };
  }

  async lowerRate(command: string, rate: number, nowMs: number, cooldownMs: number): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: { id: { S: gridId(command) } },
          UpdateExpression: 'SET penaltyRate = :rate, penalizedAt = :now',
          ConditionExpression: 'attribute_not_exists(penalizedAt) OR penalizedAt < :cutoff',
          ExpressionAttributeValues: { ':rate': num(rate), ':now': num(nowMs), ':cutoff': num(nowMs - cooldownMs) },
        }),
      );
    } catch (error) {
      // Another copy reported the same burst of refusals first: one signal, already recorded.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** One conditional update; the item after it, or undefined when its condition did not hold. */
  async #book(request: LeaseRequest, idle: boolean): Promise<Item | undefined> {
    const span = request.count * request.spacingMs;
    const command = idle
      ? new UpdateItemCommand({
          TableName: this.#tableName,
          Key: { id: { S: gridId(request.command) } },
          UpdateExpression: 'SET bookedUntil = :end',
          ConditionExpression: 'attribute_not_exists(bookedUntil) OR bookedUntil <= :now',
          ExpressionAttributeValues: { ':end': num(request.nowMs + span), ':now': num(request.nowMs) },
          ReturnValues: 'ALL_NEW',
        })
      : new UpdateItemCommand({
          TableName: this.#tableName,
          Key: { id: { S: gridId(request.command) } },
          UpdateExpression: 'SET bookedUntil = bookedUntil + :span',
          ConditionExpression: 'bookedUntil > :now AND bookedUntil <= :latest',
          ExpressionAttributeValues: {
            ':span': num(span),
            ':now': num(request.nowMs),
            ':latest': num(request.nowMs + request.horizonMs - span),
          },
          ReturnValues: 'ALL_NEW',
        });
    try {
      return (await this.#client.send(command)).Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** The item of one command's grid; a prefix keeps it apart from anything else in the table. */
export const gridId = (command: string): string => `grid#${command}`;

function penaltyOf(item: Item): GridPenalty | undefined {
  const rate = readNumber(item, 'penaltyRate');
  const atMs = readNumber(item, 'penalizedAt');
  return rate === undefined || atMs === undefined ? undefined : { rate, atMs };
}
