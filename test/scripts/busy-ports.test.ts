import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { busyPorts, describeBusyPorts } from '../../local/busy-ports.ts';

let holder: Server | undefined;
afterEach(() => holder?.close());

describe('npm start: a port already in use', () => {
  it('is found before anything starts and named with the setting that moves it', async () => {
    // Prepare: another program holds a port
    holder = createServer();
    await new Promise<void>((resolve) => holder?.listen(0, resolve));
    const taken = (holder.address() as AddressInfo).port;

    // Act
    const busy = await busyPorts([
      { setting: 'SQS_PORT', port: taken },
      { setting: 'EMULATOR_PORT', port: 0 },
    ]);

    // Assess
    expect(busy).toEqual([{ setting: 'SQS_PORT', port: taken }]);
    expect(describeBusyPorts(busy)).toBe(
      `port ${taken} is already in use by another program: set SQS_PORT to a free port, e.g. SQS_PORT=${taken + 10} npm start`,
    );
  });
});
