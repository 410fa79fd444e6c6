/**
 * POSTs one IM REST command over a keep-alive connection pool and returns the parsed answer, or a
 * transport failure as a value (never thrown): the client classifies both the same way.
 *
 * Tencent recommends persistent connections with a pool (FAQ in doc 269/1519); the server's own timeout
 * is 3 s, so a client timeout must be longer or it would abandon calls the server still completes.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { TRANSPORT_ERROR_CODES, httpStatusCode } from './error-codes.ts';
import type { ImResponseBody, ImUserError } from './types.ts';

/** Options of {@link ImTransport}; every field but `baseUrl` has a default. */
export interface TransportOptions {
  /** `https://domain` or e.g. `http://127.0.0.1:8080` (see `resolveEndpoint`). */
  readonly baseUrl: string;
  /** Whole-call timeout in ms; must be greater than {@link MIN_TIMEOUT_MS}. Default 5000. */
  readonly timeoutMs?: number;
  /** Most sockets in the pool. Default 128. */
  readonly maxSockets?: number;
  /** Answers larger than this are refused, in bytes. Default 4 MiB (100 users' attributes are ~30 KB). */
  readonly maxResponseBytes?: number;
}

/** The defaults of {@link TransportOptions}. */
const TRANSPORT_DEFAULTS = {
  timeoutMs: 5000,
  maxSockets: 128,
  maxResponseBytes: 4 * 1024 * 1024,
} as const;

/** The server's own timeout (doc 269/1519): the client timeout must be strictly longer. */
export const MIN_TIMEOUT_MS = 3000;

/** The admin identity a call is signed with. */
export interface CallAuth {
  readonly sdkAppId: number;
  readonly identifier: string;
  readonly userSig: string;
}

/** What one POST produced: an IM answer (HTTP 200 with an IM body) or a transport failure. */
export type TransportResult =
  | { readonly kind: 'answer'; readonly body: ImResponseBody }
  | { readonly kind: 'failure'; readonly errorCode: number; readonly errorInfo: string; readonly cause?: unknown };

/** Callbacks into one POST. */
export interface PostHooks {
  /** Called once the request has been fully written to its socket (connection setup included). */
  readonly onSent?: () => void;
}

/** Validates a client timeout: finite and longer than the server's 3 s. */
function validateTimeoutMs(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= MIN_TIMEOUT_MS) {
    throw new RangeError(
      `IM timeoutMs must be greater than the server's ${MIN_TIMEOUT_MS} ms timeout, got ${timeoutMs}`,
    );
  }
  return timeoutMs;
}

/**
 * The query string, in IM's documented order. `random` is a crypto-random uint32 per call: IM wants
 * 0–4294967295, and `Date.now()`-based values would overflow it.
 */
function buildQuery(auth: CallAuth): string {
  return new URLSearchParams([
    ['sdkappid', String(auth.sdkAppId)],
    ['identifier', auth.identifier],
    ['usersig', auth.userSig],
    ['random', String(randomInt(0, 2 ** 32))],
    ['contenttype', 'json'],
  ]).toString();
}

function parseErrorList(value: unknown): ImUserError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: ImUserError[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { To_Account: account, ErrorCode: code } = entry as Record<string, unknown>;
    if (typeof account === 'string' && typeof code === 'number') list.push({ To_Account: account, ErrorCode: code });
  }
  return list;
}

/** Reads an IM answer body; undefined when it is not one (no JSON object, or no numeric ErrorCode). */
function parseImBody(text: string): ImResponseBody | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const fields = doc as Record<string, unknown>;
  const { ActionStatus: status, ErrorCode: code, ErrorInfo: info, ErrorList: list } = fields;
  if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  const errorList = parseErrorList(list);
  return {
    ...fields,
    ActionStatus: typeof status === 'string' ? status : '',
    ErrorCode: code,
    ErrorInfo: typeof info === 'string' ? info : '',
    ...(errorList === undefined ? {} : { ErrorList: errorList }),
  };
}

/** A keep-alive HTTP(S) client for IM REST commands. Call {@link ImTransport.close} when done. */
export class ImTransport {
  readonly timeoutMs: number;
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #maxResponseBytes: number;

  constructor(options: TransportOptions) {
    this.#base = new URL(options.baseUrl.replace(/\/+$/, ''));
    this.timeoutMs = validateTimeoutMs(options.timeoutMs ?? TRANSPORT_DEFAULTS.timeoutMs);
    const maxSockets = options.maxSockets ?? TRANSPORT_DEFAULTS.maxSockets;
    if (!Number.isInteger(maxSockets) || maxSockets < 1)
      throw new RangeError(`IM maxSockets must be a positive integer, got ${maxSockets}`);
    this.#maxResponseBytes = options.maxResponseBytes ?? TRANSPORT_DEFAULTS.maxResponseBytes;
    const secure = this.#base.protocol === 'https:';
    if (!secure && this.#base.protocol !== 'http:')
      throw new RangeError(`IM baseUrl must be http(s), got ${this.#base.protocol}`);
    // LIFO reuses the most recently used (warm) socket and lets idle ones expire.
    const agentOptions = { keepAlive: true, maxSockets, scheduling: 'lifo' } as const;
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#request = secure ? https.request : http.request;
  }

  /**
   * POSTs `body` as JSON to `/v4/{command}` (e.g. `all_member_push/im_set_attr`).
   * Only HTTP 200 with an IM body is an answer; its ErrorCode still decides success.
   */
  post(command: string, auth: CallAuth, body: unknown, hooks: PostHooks = {}): Promise<TransportResult> {
    // IM never takes an empty body: a command without parameters still takes `{}`.
    const payload = Buffer.from(JSON.stringify(body ?? {}));
    const basePath = this.#base.pathname === '/' ? '' : this.#base.pathname;
    const path = `${basePath}/v4/${command}?${buildQuery(auth)}`;

    return new Promise<TransportResult>((resolve) => {
      let settled = false;
      const finish = (result: TransportResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const fail = (errorCode: number, errorInfo: string, cause?: unknown): void =>
        finish({ kind: 'failure', errorCode, errorInfo, cause });

      const request = this.#request(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          path,
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length },
        },
        (response) => this.#readAnswer(response, request, { fail, finish }),
      );
      // 'finish': the whole request has been handed to the socket, after any connection setup.
      if (hooks.onSent !== undefined) request.once('finish', hooks.onSent);
      request.on('error', (error) =>
        fail(TRANSPORT_ERROR_CODES.connection, `connection error: ${describe(error)}`, error),
      );
      const timer = setTimeout(() => {
        fail(TRANSPORT_ERROR_CODES.timeout, `no complete answer within ${this.timeoutMs} ms`);
        // Destroying the socket keeps a late answer from being read as the next call's answer.
        request.destroy();
      }, this.timeoutMs);
      request.end(payload);
    });
  }

  /** Reads an answer: only HTTP 200 with an IM body, within the size limit, is one. */
  #readAnswer(
    response: http.IncomingMessage,
    request: http.ClientRequest,
    settle: {
      fail: (errorCode: number, errorInfo: string, cause?: unknown) => void;
      finish: (result: TransportResult) => void;
    },
  ): void {
    const { fail, finish } = settle;
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#maxResponseBytes) {
        fail(TRANSPORT_ERROR_CODES.invalidResponse, `answer larger than ${this.#maxResponseBytes} bytes`);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('error', (error) =>
      fail(TRANSPORT_ERROR_CODES.connection, `connection error while reading the answer: ${describe(error)}`, error),
    );
    response.on('end', () => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        fail(httpStatusCode(status), `HTTP ${status}`);
        return;
      }
      const parsed = parseImBody(Buffer.concat(chunks).toString('utf8'));
      if (parsed === undefined) fail(TRANSPORT_ERROR_CODES.invalidResponse, 'HTTP 200 without an IM answer body');
      else finish({ kind: 'answer', body: parsed });
    });
  }

  /** Closes the pooled sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

/** A node error's code and message, which name host and port at most, never the path or query. */
function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? error.message : `${code} ${error.message}`;
}
