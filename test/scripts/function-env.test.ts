import { describe, expect, it } from 'vitest';
import { localFunctionEnv } from '../../local/function-env.ts';
import { readLocalSettings } from '../../lib/config/local-settings.ts';
import { resourceNames } from '../../lib/config/resource-names.ts';

const parts = {
  imBaseUrl: 'http://127.0.0.1:5080',
  sqsEndpoint: 'http://localhost:4566',
  queues: {
    lanesQueueUrl: 'http://q/lanes.fifo',
    intakeQueueUrl: 'http://q/intake.fifo',
    deadLetterQueueUrl: 'http://q/dlq',
  },
  tables: { tableName: 'tim-attr-gateway-local-idempotency', endpoint: 'http://localhost:4567' },
  credentials: { TIM_SDKAPPID: '1400000000' },
};

describe("npm start's function environment", () => {
  it("gives the worker the stage's metrics service, as serverless.yml gives the API, and never inherits SECRET_ID or IM_REGION", () => {
    // Prepare
    const inherited = { SECRET_ID: 'prod-secret', IM_REGION: 'singapore', LOG_LEVEL: 'DEBUG' };

    // Act
    const { env, ignored } = localFunctionEnv(inherited, readLocalSettings({}), parts);

    // Assess
    expect(env['POWERTOOLS_SERVICE_NAME']).toBe(resourceNames('local').metricsService);
    expect(env).not.toHaveProperty('SECRET_ID');
    expect(env).not.toHaveProperty('IM_REGION');
    expect(env['LOG_LEVEL']).toBe('DEBUG');
    expect(ignored).toEqual(['SECRET_ID', 'IM_REGION']);
  });
});
