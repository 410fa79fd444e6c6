/**
 * The characters SQS takes in a message body and in String attribute values:
 * #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF; anything else is refused.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
// eslint-disable-next-line no-control-regex -- the control characters are the point
const OUTSIDE_SQS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

// fauxqs tests code units without the `u` flag, so it also refuses valid surrogate pairs (emoji).
// eslint-disable-next-line no-control-regex -- the control characters are the point
const OUTSIDE_FAUXQS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g;

/** Whether real SQS would take `value` as a body or a String attribute value. */
export function isSqsText(value: string): boolean {
  return !OUTSIDE_SQS.test(value);
}

/**
 * `value` with every character fauxqs refuses replaced by `?`: what a producer could have put on the
 * queue (a real record never holds a character SQS refuses).
 */
export function toQueueableText(value: string): string {
  return value.replace(OUTSIDE_FAUXQS, '?');
}
