/**
 * IM REST regional domains (doc 269/1519). A wrong region does not fail as "not found":
 * IM answers 70016/70020, so the region must be chosen explicitly, never defaulted silently.
 */
import { GatewayError } from '../core/errors.ts';

/** Primary and backup domain of one region; the backup is for DNS trouble with the primary. */
interface RegionDomains {
  readonly primary: string;
  readonly backup: string;
}

/** The regions by name. */
const IM_REGIONS = {
  china: { primary: 'console.tim.qq.com', backup: 'adminapi.my-imcloud.com' },
  singapore: { primary: 'adminapisgp.im.qcloud.com', backup: 'adminapisgp.my-imcloud.com' },
  seoul: { primary: 'adminapikr.im.qcloud.com', backup: 'adminapikr.my-imcloud.com' },
  tokyo: { primary: 'adminapijpn.im.qcloud.com', backup: 'adminapijpn.my-imcloud.com' },
  frankfurt: { primary: 'adminapiger.im.qcloud.com', backup: 'adminapiger.my-imcloud.com' },
  mumbai: { primary: 'adminapiind.im.qcloud.com', backup: 'adminapiind.my-imcloud.com' },
  'silicon-valley': { primary: 'adminapiusa.im.qcloud.com', backup: 'adminapiusa.my-imcloud.com' },
  jakarta: { primary: 'adminapiidn.im.qcloud.com', backup: 'adminapiidn.my-imcloud.com' },
} as const satisfies Record<string, RegionDomains>;

/** A region name. */
type ImRegion = keyof typeof IM_REGIONS;

/** The valid region names. */
const IM_REGION_NAMES = Object.keys(IM_REGIONS) as ImRegion[];

/** Thrown when the endpoint configuration names no valid region or URL. */
export class UnknownRegionError extends GatewayError {
  override name = 'UnknownRegionError';
  readonly region: string | undefined;

  constructor(region: string | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
    this.region = region;
  }
}

/** Where to send IM calls: an explicit base URL (e.g. the emulator), or a region. */
export interface EndpointOptions {
  readonly region?: string;
  /** Wins over `region`, e.g. `http://127.0.0.1:8080` for the emulator. */
  readonly baseUrl?: string;
  /** Use the region's backup domain. */
  readonly useBackup?: boolean;
}

/** True when `name` is a known region. */
function isImRegion(name: string): name is ImRegion {
  return Object.hasOwn(IM_REGIONS, name);
}

/** Resolves the base URL (no trailing slash) of the IM REST API. */
export function resolveEndpoint(options: EndpointOptions): string {
  if (options.baseUrl !== undefined && options.baseUrl !== '') {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new UnknownRegionError(undefined, `IM baseUrl is not a valid URL: ${JSON.stringify(options.baseUrl)}`, {
        cause,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UnknownRegionError(undefined, `IM baseUrl must be http(s), got ${url.protocol}`);
    if (url.search !== '') throw new UnknownRegionError(undefined, 'IM baseUrl must not carry a query string');
    return options.baseUrl.replace(/\/+$/, '');
  }
  const valid = IM_REGION_NAMES.join(', ');
  if (options.region === undefined || options.region === '')
    throw new UnknownRegionError(undefined, `No IM region or baseUrl configured; valid regions: ${valid}`);
  if (!isImRegion(options.region))
    throw new UnknownRegionError(
      options.region,
      `Unknown IM region ${JSON.stringify(options.region)}; valid regions: ${valid}`,
    );
  const domains = IM_REGIONS[options.region];
  return `https://${options.useBackup === true ? domains.backup : domains.primary}`;
}
