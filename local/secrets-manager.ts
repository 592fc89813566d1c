import { randomUUID } from 'node:crypto';
import { AwsJsonServer, AwsServiceFault } from './aws-json-server';

/**
 * A Secrets Manager-compatible endpoint for the local stack: GetSecretValue over the AWS JSON 1.1
 * protocol, so the authorize handler reads the upstream client secret through the real
 * @aws-sdk/client-secrets-manager path, by ARN, exactly as deployed.
 */
export class LocalSecretsManager extends AwsJsonServer {
  private readonly secrets = new Map<string, string>();

  constructor(private readonly region = 'us-east-1', private readonly account = '000000000000') {
    super();
  }

  /** Stores a secret string; returns its ARN. */
  put(name: string, value: string): string {
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomUUID().slice(0, 6)}`;
    this.secrets.set(arn, value);
    return arn;
  }

  protected handle(operation: string, input: Record<string, unknown>): unknown {
    if (operation !== 'GetSecretValue') throw new AwsServiceFault('UnsupportedOperation', `${operation} is not implemented locally`);
    const secretId = typeof input.SecretId === 'string' ? input.SecretId : undefined;
    const value = secretId === undefined ? undefined : this.secrets.get(secretId);
    if (value === undefined) throw new AwsServiceFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return { ARN: secretId, Name: secretId!.split(':').pop(), SecretString: value, VersionId: 'local', CreatedDate: 0 };
  }
}
