/**
 * A tiny scripted HTTP server for the IM client's unit tests: it records every request (query, body,
 * which socket carried it) and answers as the test's script says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** Distinct number per TCP connection. */
  readonly socketId: number;
}

/** What to answer: an IM body or any text (HTTP 200), an HTTP error, a reset connection, or no answer at all. */
export type ScriptedAnswer =
  | { readonly body: Record<string, unknown> }
  | { readonly text: string }
  | { readonly status: number }
  | { readonly reset: true }
  | { readonly hang: true };

/** An IM success body. */
export const ok = (extra: Record<string, unknown> = {}): ScriptedAnswer => ({
  body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...extra },
});
/** An IM failure body with `code`. */
export const fail = (code: number, extra: Record<string, unknown> = {}): ScriptedAnswer => ({
  body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: `code ${code}`, ...extra },
});

export interface RecordingServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Number of distinct TCP connections accepted so far. */
  readonly socketCount: () => number;
  close(): Promise<void>;
}

/**
 * Starts the server on an ephemeral port. `script` decides the answer to the request number `index`
 * (0-based); the default answers success.
 */
export async function startRecordingServer(
  script: (request: RecordedRequest, index: number) => ScriptedAnswer = () => ok(),
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const socketIds = new WeakMap<Socket, number>();
  let sockets = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        pathname: url.pathname,
        query: url.searchParams,
        body,
        socketId: socketIds.get(req.socket) ?? -1,
      };
      const index = requests.length;
      requests.push(recorded);
      const answer = script(recorded, index);
      if ('hang' in answer) return;
      if ('reset' in answer) {
        req.socket.destroy();
        return;
      }
      if ('status' in answer) {
        res.writeHead(answer.status, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('text' in answer ? answer.text : JSON.stringify(answer.body));
    });
  });
  server.on('connection', (socket) => {
    sockets += 1;
    socketIds.set(socket, sockets);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    socketCount: () => sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
