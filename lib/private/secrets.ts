import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * What a function passes as `SecretId` (the authorize function for the upstream secret, the token function for machine clients): the complete ARN when it is known, otherwise the
 * secret's name. Secrets Manager resolves a partial ARN by taking a trailing `-` and six characters as
 * the random suffix, so a partial ARN of `mcp/idp-client-secret` (as `Secret.fromSecretNameV2` gives)
 * finds nothing; a name is matched exactly. `ISecret.grantRead` grants `<name>-??????`, which matches
 * the complete ARN Secrets Manager authorizes either call against.
 */
export function secretId(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? secret.secretName;
}

/** A name is only found in the function's own account and Region: a partial ARN elsewhere needs the complete ARN. */
export function checkSecretReadable(secret: secretsmanager.ISecret, stack: Stack, what: string): string | undefined {
  if (secret.secretFullArn !== undefined) return undefined;
  const { account, region } = stack.splitArn(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME);
  const elsewhere = (theirs: string | undefined, ours: string) => theirs !== undefined && !Token.isUnresolved(theirs) && !Token.isUnresolved(ours) && theirs !== ours;
  if (!elsewhere(account, stack.account) && !elsewhere(region, stack.region)) return undefined;
  return `${what} ${secret.secretArn} is in another account or Region and has no complete ARN: import it with secretsmanager.Secret.fromSecretCompleteArn (the ARN ends in -<6 random characters>)`;
}
