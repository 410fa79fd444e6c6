import { describe, expect, it } from 'vitest';
import { UnknownRegionError, resolveEndpoint } from '../../lib/im/regions.ts';

describe('resolveEndpoint', () => {
  it.each([
    ['china', 'https://console.tim.qq.com', 'https://adminapi.my-imcloud.com'],
    ['singapore', 'https://adminapisgp.im.qcloud.com', 'https://adminapisgp.my-imcloud.com'],
    ['seoul', 'https://adminapikr.im.qcloud.com', 'https://adminapikr.my-imcloud.com'],
    ['tokyo', 'https://adminapijpn.im.qcloud.com', 'https://adminapijpn.my-imcloud.com'],
    ['frankfurt', 'https://adminapiger.im.qcloud.com', 'https://adminapiger.my-imcloud.com'],
    ['mumbai', 'https://adminapiind.im.qcloud.com', 'https://adminapiind.my-imcloud.com'],
    ['silicon-valley', 'https://adminapiusa.im.qcloud.com', 'https://adminapiusa.my-imcloud.com'],
    ['jakarta', 'https://adminapiidn.im.qcloud.com', 'https://adminapiidn.my-imcloud.com'],
  ])('resolves %s to its primary and backup domains', (region, primary, backup) => {
    // Prepare
    const options = { region };

    // Act
    const primaryUrl = resolveEndpoint(options);
    const backupUrl = resolveEndpoint({ ...options, useBackup: true });

    // Assess
    expect(primaryUrl).toBe(primary);
    expect(backupUrl).toBe(backup);
  });

  it('has exactly the eight documented regions', () => {
    // Prepare
    const expected = ['china', 'singapore', 'seoul', 'tokyo', 'frankfurt', 'mumbai', 'silicon-valley', 'jakarta'];

    // Act: the error for an unknown region lists every valid one
    let message = '';
    try {
      resolveEndpoint({ region: 'mars' });
    } catch (error) {
      message = error instanceof Error ? error.message : '';
    }
    const names = message.replace(/^.*valid regions: /, '').split(', ');

    // Assess
    expect(names.sort()).toEqual(expected.sort());
  });

  it('prefers an explicit baseUrl and drops its trailing slash', () => {
    // Prepare
    const options = { region: 'china', baseUrl: 'http://127.0.0.1:8080/' };

    // Act
    const url = resolveEndpoint(options);

    // Assess
    expect(url).toBe('http://127.0.0.1:8080');
  });

  it('names the valid regions when the region is unknown', () => {
    // Prepare
    const options = { region: 'mars' };

    // Act
    const act = (): string => resolveEndpoint(options);

    // Assess
    expect(act).toThrow(UnknownRegionError);
    expect(act).toThrow(
      /Unknown IM region "mars"; valid regions: china, singapore, seoul, tokyo, frankfurt, mumbai, silicon-valley, jakarta/,
    );
  });

  it('refuses a missing region, a non-http URL and a URL with a query string', () => {
    // Prepare
    const bad = [
      {},
      { baseUrl: 'ftp://example.com' },
      { baseUrl: 'not a url' },
      { baseUrl: 'https://x.example?usersig=abc' },
    ];

    // Act
    const errors = bad.map((options) => {
      try {
        return resolveEndpoint(options);
      } catch (error) {
        return error;
      }
    });

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(UnknownRegionError);
    expect(String(errors[3])).not.toContain('abc');
  });
});
