import { createApiHandler } from '../lib/service/lambda-handlers.ts';
import { services } from '../lib/service/services.ts';

/** API Gateway HTTP API: `POST /v1/user-attrs`. */
export const handler = createApiHandler(services());
