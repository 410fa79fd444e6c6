import { createApiHandler } from '../lib/service/lambda-handlers.ts';
import { apiServices } from '../lib/service/api-services.ts';

/** API Gateway HTTP API: `POST /v1/user-attrs`. */
export const handler = createApiHandler(apiServices());
