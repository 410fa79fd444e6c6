import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A Secrets Manager secret's string. `what` names the secret in the error (never its value).
 * @throws Error when the secret holds binary data only
 */
export async function readSecretString(client: SecretsManagerClient, secretId: string, what: string): Promise<string> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (answer.SecretString === undefined)
    throw new Error(`the ${what} has no SecretString (binary secrets are not supported)`);
  return answer.SecretString;
}
