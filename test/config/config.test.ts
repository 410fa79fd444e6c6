import { describe, expect, it, vi } from 'vitest';
import { ConfigError, intakeRetryWindowMs, loadConfig, type Config } from '../../lib/config/config.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';

type Env = Record<string, string | undefined>;

/** The least a local run needs: a region and credentials from env. */
const LOCAL_ENV: Env = {
  IM_REGION: 'singapore',
  TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
  TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
  TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
};

/** Runs `loadConfig` and returns the ConfigError it throws (fails the test when it throws none). */
function configError(env: Env): ConfigError {
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted the environment (role ${config.role})`);
}

describe('loadConfig: defaults', () => {
  it('needs only IM_REGION and local credentials, and fills in every default', () => {
    // Prepare
    const env = { ...LOCAL_ENV };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.role).toBe('api');
    expect(config.logLevel).toBe('INFO');
    expect(config.credentials).toEqual({
      source: 'env',
      sdkAppId: TEST_CREDENTIALS.sdkAppId,
      identifier: TEST_CREDENTIALS.identifier,
      secretKey: TEST_CREDENTIALS.secretKey,
    });
    expect(config.im).toEqual({
      region: 'singapore',
      timeoutMs: 5000,
      maxInFlight: 64,
      pacingMarginMs: 20,
      retryMaxAttempts: 6,
      retryMaxTotalMs: 20_000,
    });
    expect(config.attrNames).toBeUndefined();
    expect(config.attrNamesCacheTtlSeconds).toBe(300);
    expect(config.sqs).toEqual({ region: 'ap-southeast-1' });
    expect(config.maxBodyBytes).toBe(6_000_000);
    expect(config.webhookAuth).toBe('standard-webhooks');
    expect(config.deadlineMarginMs).toBe(1000);
    expect(config.fleet).toMatchObject({ imRateLimit: 100, apiMaxConcurrency: 50, workerMaxConcurrency: 2 });
    expect(config.callsPerSecond).toBe(config.fleet.apiCallsPerSecondPerCopy);
  });

  it('keeps the default fleet within IM limit of 100 calls/s', () => {
    // Prepare
    const env = { ...LOCAL_ENV };

    // Act
    const { fleet } = loadConfig(env);

    // Assess
    const committed =
      fleet.apiCallsPerSecondPerCopy * fleet.apiMaxConcurrency +
      fleet.workerCallsPerSecondPerCopy * fleet.workerMaxConcurrency;
    expect(committed).toBeLessThanOrEqual(100 + 1e-9);
  });

  it('trims values and treats blank strings as unset', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_REGION: '  tokyo  ', SECRET_ID: '   ', WEBHOOK_SECRET: '', OVERFLOW_QUEUE_URL: ' ' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.im.region).toBe('tokyo');
    expect(config.credentials.source).toBe('env');
    expect(config.credentials).not.toHaveProperty('webhookSecret');
    expect(config.sqs).not.toHaveProperty('overflowQueueUrl');
  });

  it('defaults to process.env when no environment is passed', () => {
    // Prepare
    for (const [name, value] of Object.entries({
      ...LOCAL_ENV,
      SECRET_ID: '',
      IM_REGION: 'seoul',
      FUNCTION_ROLE: 'worker',
    }))
      vi.stubEnv(name, value ?? '');

    // Act
    let config: Config;
    try {
      config = loadConfig();
    } finally {
      vi.unstubAllEnvs();
    }

    // Assess
    expect(config.im.region).toBe('seoul');
    expect(config.role).toBe('worker');
  });
});

describe('loadConfig: credentials', () => {
  it('reads credentials from Secrets Manager when SECRET_ID is set, even beside env credentials', () => {
    // Prepare
    const env = { ...LOCAL_ENV, SECRET_ID: 'tim-attr-gateway/dev', SECRET_CACHE_TTL_SECONDS: '60' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.credentials).toEqual({
      source: 'secrets-manager',
      secretId: 'tim-attr-gateway/dev',
      cacheTtlSeconds: 60,
    });
  });

  it('needs no env credentials with SECRET_ID, and caches the secret 300 s by default', () => {
    // Prepare
    const env = {
      IM_REGION: 'singapore',
      SECRET_ID: 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:tim-AbCdEf',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.credentials).toEqual({ source: 'secrets-manager', secretId: env.SECRET_ID, cacheTtlSeconds: 300 });
  });

  it('carries the webhook secret of a local run', () => {
    // Prepare
    const env = { ...LOCAL_ENV, WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.credentials).toMatchObject({ source: 'env', webhookSecret: TEST_CREDENTIALS.webhookSecret });
  });

  it.each(['TIM_SDKAPPID', 'TIM_IDENTIFIER', 'TIM_SECRET_KEY'])(
    'names %s when it is missing and SECRET_ID is not set',
    (name) => {
      // Prepare
      const env = { ...LOCAL_ENV, [name]: undefined };

      // Act
      const error = configError(env);

      // Assess
      expect(error.name).toBe('ConfigError');
      expect(error.message).toContain('SECRET_ID');
      expect(error.message).toContain(name);
      for (const other of ['TIM_SDKAPPID', 'TIM_IDENTIFIER', 'TIM_SECRET_KEY'].filter((n) => n !== name))
        expect(error.message).not.toContain(other);
    },
  );

  it('names all three local variables when none is set', () => {
    // Prepare
    const env = { IM_REGION: 'singapore' };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toContain(
      'set SECRET_ID (Secrets Manager), or for a local run TIM_SDKAPPID, TIM_IDENTIFIER, TIM_SECRET_KEY',
    );
  });

  it.each(['abc', '0', '-5', '1.5', '99999999999999999'])('refuses TIM_SDKAPPID %j, naming it', (value) => {
    // Prepare
    const env = { ...LOCAL_ENV, TIM_SDKAPPID: value };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toContain('TIM_SDKAPPID must be a positive whole number');
  });

  it('never puts the secret key in an error message', () => {
    // Prepare
    const envs: Env[] = [
      { ...LOCAL_ENV, TIM_SDKAPPID: 'nope' },
      { ...LOCAL_ENV, TIM_IDENTIFIER: undefined },
      { ...LOCAL_ENV, IM_TIMEOUT_MS: '1' },
      { ...LOCAL_ENV, IM_REGION: undefined },
    ];

    // Act
    const messages = envs.map((env) => configError(env).message);

    // Assess
    for (const message of messages) expect(message).not.toContain(TEST_CREDENTIALS.secretKey);
  });
});

describe('loadConfig: IM endpoint and timeout', () => {
  it('requires IM_REGION or IM_BASE_URL, naming both', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_REGION: undefined };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toContain('set IM_REGION (e.g. singapore) or IM_BASE_URL');
  });

  it('accepts IM_BASE_URL alone', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_REGION: undefined, IM_BASE_URL: 'http://127.0.0.1:9000' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.im.baseUrl).toBe('http://127.0.0.1:9000');
    expect(config.im).not.toHaveProperty('region');
  });

  it('refuses an IM_BASE_URL that is not a URL, naming it', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_BASE_URL: 'not a url' };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toMatch(/^invalid configuration: IM_BASE_URL: /);
  });

  it.each(['3000', '2500', '0', 'soon', '60001'])('refuses IM_TIMEOUT_MS=%s: IM itself times out at 3 s', (value) => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_TIMEOUT_MS: value };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toMatch(/^invalid configuration: IM_TIMEOUT_MS: /);
  });

  it('accepts IM_TIMEOUT_MS=3001, the first value above IM own timeout', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_TIMEOUT_MS: '3001' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.im.timeoutMs).toBe(3001);
  });

  it('names every invalid variable checked by the schema in one error', () => {
    // Prepare
    const env = {
      ...LOCAL_ENV,
      IM_TIMEOUT_MS: '100',
      FUNCTION_ROLE: 'cron',
      LOG_LEVEL: 'LOUD',
      WORKER_MAX_CONCURRENCY: '1',
    };

    // Act
    const error = configError(env);

    // Assess
    for (const name of ['IM_TIMEOUT_MS', 'FUNCTION_ROLE', 'LOG_LEVEL', 'WORKER_MAX_CONCURRENCY'])
      expect(error.message).toContain(`${name}: `);
  });

  it('names both the missing region and the missing credentials in one error', () => {
    // Prepare
    const env = { TIM_IDENTIFIER: TEST_CREDENTIALS.identifier };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toContain('IM_REGION');
    expect(error.message).toContain('TIM_SDKAPPID');
  });
});

describe('loadConfig: ATTR_NAMES', () => {
  it('splits on commas, trims and drops empty names', () => {
    // Prepare
    const env = { ...LOCAL_ENV, ATTR_NAMES: ' sex, city ,,tier , ' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.attrNames).toEqual(['sex', 'city', 'tier']);
  });

  it.each([' ', ',', ' , ,'])('leaves the names to be learned from IM when ATTR_NAMES is %j', (value) => {
    // Prepare
    const env = { ...LOCAL_ENV, ATTR_NAMES: value };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).not.toHaveProperty('attrNames');
  });

  it('takes the names cache lifetime from ATTR_NAMES_CACHE_TTL_SECONDS', () => {
    // Prepare
    const env = { ...LOCAL_ENV, ATTR_NAMES_CACHE_TTL_SECONDS: '30' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.attrNamesCacheTtlSeconds).toBe(30);
  });
});

describe('loadConfig: pace per FUNCTION_ROLE', () => {
  const fleetEnv: Env = {
    ...LOCAL_ENV,
    IM_RATE_LIMIT: '100',
    API_RATE_SHARE: '10',
    API_MAX_CONCURRENCY: '4',
    WORKER_MAX_CONCURRENCY: '9',
  };

  it('paces an API copy to the API share divided by the API concurrency', () => {
    // Prepare
    const env = { ...fleetEnv, FUNCTION_ROLE: 'api' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.callsPerSecond).toBe(2.5);
  });

  it('paces a worker copy to the rest divided by the worker concurrency', () => {
    // Prepare
    const env = { ...fleetEnv, FUNCTION_ROLE: 'worker' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.role).toBe('worker');
    expect(config.callsPerSecond).toBe(10);
  });

  it('turns a fleet budget refusal into a ConfigError naming the variable, with the cause', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IM_RATE_LIMIT: '50', API_RATE_SHARE: '50' };

    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toContain('API_RATE_SHARE must be > 0 and < IM_RATE_LIMIT 50 (got 50)');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toHaveProperty('name', 'FleetBudgetError');
  });
});

describe('loadConfig: SQS', () => {
  it('carries the queue URLs, endpoint and region', () => {
    // Prepare
    const env = {
      ...LOCAL_ENV,
      LANES_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/gw-lanes.fifo',
      INTAKE_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/gw-intake.fifo',
      DLQ_URL: 'http://127.0.0.1:4566/000000000000/dlq',
      SQS_ENDPOINT: 'http://127.0.0.1:4566',
      AWS_REGION: 'eu-central-1',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.sqs).toEqual({
      lanesQueueUrl: env.LANES_QUEUE_URL,
      intakeQueueUrl: env.INTAKE_QUEUE_URL,
      dlqUrl: env.DLQ_URL,
      endpoint: env.SQS_ENDPOINT,
      region: 'eu-central-1',
    });
  });

  it('carries the idempotency table and the lane settings, with the defaults of lib/config/defaults.json', () => {
    // Prepare
    const env = { ...LOCAL_ENV, IDEMPOTENCY_TABLE: 'gw-idempotency', DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567' };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config.idempotency).toEqual({
      tableName: 'gw-idempotency',
      endpoint: 'http://127.0.0.1:4567',
      ttlSeconds: 48 * 3600,
    });
    expect(config.lanes).toEqual({
      count: 250,
      retryMaxSeconds: 300,
      outageToleranceMs: 120 * 60_000,
      intakeRetryWindowMs: 180_000,
      stuckLaneToleranceMs: 15 * 60_000,
    });
    expect(config.apiInlineChunks).toBe(1);
  });

  it('refuses an intake retry window that would leave SQS’s 5-minute deduplication window, naming the variable', () => {
    // Prepare
    const env = { ...LOCAL_ENV, INTAKE_RETRY_WINDOW_SECONDS: '400' };

    // Act
    const act = () => loadConfig(env);

    // Assess
    expect(act).toThrow(/INTAKE_RETRY_WINDOW_SECONDS/);
  });
});

describe('intakeRetryWindowMs', () => {
  it('keeps the configured window when the worker timeout and the visibility timeout fit beside it in 300 s', () => {
    // Act / Assess
    expect(intakeRetryWindowMs(180, 45, 60)).toBe(180_000);
  });

  it("cuts the window so a write decided at its end lands inside SQS's 5-minute deduplication window", () => {
    // Act / Assess: 300 - 90 - 120 = 90 s
    expect(intakeRetryWindowMs(240, 90, 120)).toBe(90_000);
  });

  it('refuses timeouts that leave under 10 s, naming the setting', () => {
    // Act / Assess
    expect(() => intakeRetryWindowMs(180, 200, 95)).toThrow(/INTAKE_RETRY_WINDOW_SECONDS.*5 s/);
  });
});
