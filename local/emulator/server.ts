import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AttrStore } from './attr-store.ts';
import { commands, SERVICE_PATH } from './commands/index.ts';
import type { Command, CommandContext, CommandResult } from './commands/index.ts';
import { countAnswer, createCounters, increment, resetCounters } from './counters.ts';
import { ImErrorCode } from './error-codes.ts';
import { FaultPlan } from './fault-plan.ts';
import { readBody, writeAnswer } from './http-io.ts';
import { fail, serializeAnswer } from './im-answer.ts';
import type { ImAnswer } from './im-answer.ts';
import { resolveOptions } from './options.ts';
import { RequestAuth } from './request-auth.ts';
import { SlidingWindow } from './sliding-window.ts';
import type { Emulator, EmulatorOptions } from './types.ts';

const RATE_WINDOW_MS = 1000;
const SET_ATTR = 'im_set_attr';
/** The write commands whose busiest 1 s window `counters.maxCallsInAnyWindow` reports (each has its own window). */
const WINDOWED_WRITES: ReadonlySet<string> = new Set([SET_ATTR, 'im_add_tag']);

/**
 * Starts a Tencent Cloud IM emulator for the `all_member_push` attribute API on a real HTTP port.
 *
 * Per call, in order: route (404/405) → body (≤ 1 MiB, else 413) → query checks and UserSig
 * (60002, 70016, 90009, 70050, 700xx) → one fault draw → per-command sliding 1 s rate limit (60007)
 * → the injected fault, if any → the command. Injected faults never apply the call, except `slow`,
 * which applies it and answers late: the ambiguous "timed out but done" case a client must survive.
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const config = resolveOptions(options);
  const now = config.now;
  const store = new AttrStore(config.attrNames);
  const auth = new RequestAuth(
    { sdkAppId: config.sdkAppId, identifier: config.adminIdentifier, secretKey: config.secretKey },
    config.lockoutAfterSigFailures,
  );
  const faults = new FaultPlan(config.faults, config.seed);
  const windows = new Map([...commands.keys()].map((name) => [name, new SlidingWindow(RATE_WINDOW_MS)]));
  const counters = createCounters();
  const context: CommandContext = { store, partialFailureAccounts: config.partialFailureAccounts };
  const pendingAnswers = new Set<NodeJS.Timeout>();

  /** Runs `action` after the configured latency plus `extraMs`; timers are tracked so close() is prompt. */
  function later(extraMs: number, action: () => void): void {
    const delayMs = extraMs + faults.latencyMs();
    if (delayMs <= 0) {
      action();
      return;
    }
    const timer = setTimeout(() => {
      pendingAnswers.delete(timer);
      action();
    }, delayMs);
    pendingAnswers.add(timer);
  }

  function answer(res: ServerResponse, result: ImAnswer, extraMs = 0): void {
    countAnswer(counters, result.code);
    const body = serializeAnswer(result);
    later(extraMs, () => writeAnswer(res, 200, body));
  }

  function run(command: Command, raw: Buffer): CommandResult {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return fail(ImErrorCode.jsonParseFailed);
    }
    const result = command(body, context);
    if (result.code === ImErrorCode.ok && result.usersApplied !== undefined)
      counters.usersApplied += result.usersApplied;
    return result;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.calls++;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const name = path.startsWith(SERVICE_PATH) ? path.slice(SERVICE_PATH.length) : '';
    const command = commands.get(name);
    if (command === undefined) {
      req.resume();
      later(0, () => writeAnswer(res, 404, 'Not Found'));
      return;
    }
    increment(counters.callsByCommand, name);
    if (req.method !== 'POST') {
      req.resume();
      later(0, () => writeAnswer(res, 405, 'Method Not Allowed', { allow: 'POST' }));
      return;
    }
    const raw = await readBody(req, config.maxBodyBytes);
    if (raw === 'too-large') {
      later(0, () => writeAnswer(res, 413, 'Payload Too Large', { connection: 'close' }));
      return;
    }

    const nowMs = now();
    const authCode = auth.check(new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)), nowMs);
    if (authCode !== ImErrorCode.ok) {
      answer(res, { code: authCode });
      return;
    }
    const fault = faults.next();
    const inWindow = windows.get(name)?.tryAdd(nowMs, config.rateLimitPerSecond);
    if (inWindow === undefined) {
      answer(res, { code: ImErrorCode.restRateExceeded });
      return;
    }
    if (WINDOWED_WRITES.has(name) && inWindow > counters.maxCallsInAnyWindow) counters.maxCallsInAnyWindow = inWindow;

    switch (fault.kind) {
      case 'none':
        answer(res, run(command, raw));
        return;
      case 'code':
        answer(res, { code: fault.code });
        return;
      case 'http502':
        counters.http502++;
        later(0, () => writeAnswer(res, 502, 'Bad Gateway'));
        return;
      case 'reset':
        counters.resets++;
        later(0, () => req.socket.destroy());
        return;
      case 'slow':
        counters.slow++;
        answer(res, run(command, raw), fault.delayMs);
        return;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A broken request stream (client gone mid-body) or a defect: answer if anyone still listens.
      writeAnswer(res, 500, 'Internal Server Error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    attrs: store.users,
    tags: store.tags,
    counters,
    attrNames: () => store.names(),
    setFaults: (next, seed) => faults.set(next, seed),
    setSecretKey: (secretKey) => auth.setSecretKey(secretKey),
    resetCounters: () => resetCounters(counters),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of pendingAnswers) clearTimeout(timer);
        pendingAnswers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
