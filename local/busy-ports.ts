/**
 * `npm start` binds five ports. One already taken (4566 is also LocalStack's default) should stop it with the
 * port's name and the setting that moves it, not with a raw EADDRINUSE stack trace from deep inside a server.
 */
import { createServer } from 'node:net';

/** A port `npm start` needs, by the environment variable that sets it. */
export interface NamedPort {
  readonly setting: string;
  readonly port: number;
}

/** Whether something already listens on the port (any address), found by trying to listen there. */
function inUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES'),
    );
    probe.listen({ port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** The ports among these that are taken (port 0 means "any free one" and is never taken). */
export async function busyPorts(ports: readonly NamedPort[]): Promise<NamedPort[]> {
  const taken = await Promise.all(ports.map(async (p) => (p.port !== 0 && (await inUse(p.port)) ? [p] : [])));
  return taken.flat();
}

/** One line per taken port, naming it and the setting that moves it. */
export function describeBusyPorts(busy: readonly NamedPort[]): string {
  return busy
    .map(
      (p) =>
        `port ${p.port} is already in use by another program${p.port === 4566 ? ' (LocalStack listens there by default)' : ''}: set ${p.setting} to a free port, e.g. ${p.setting}=${p.port + 10} npm start`,
    )
    .join('\n');
}
