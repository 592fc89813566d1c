import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The key-policy statements a customer-managed key needs to encrypt the construct's log groups and its
 * alarm topic. CloudWatch Logs uses the key as the Region's logs service principal, for log groups of
 * this account only (the encryption-context condition); CloudWatch alarms publish to the encrypted topic
 * as cloudwatch.amazonaws.com, for alarms of this account only. A key imported by ARN keeps its own
 * policy, which must hold the same statements (README, "Security options"). Returns whether the
 * statements could be added (false for an imported key).
 */
export function grantLogEncryption(scope: Construct, key: kms.IKey, options: { readonly topic: boolean }): boolean {
  const logsPrincipal = new iam.ServicePrincipal(`logs.${Stack.of(scope).region}.amazonaws.com`);
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryption',
      principals: [logsPrincipal],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }),
    true,
  );
  if (options.topic) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishEncrypted',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      true,
    );
  }
  return statementAdded;
}

/** Problems with a brought log key whose definition is visible at synth (a `kms.Key` in the same app). */
export function checkLogEncryptionKey(key: kms.IKey): string | undefined {
  const cfn = key.node.defaultChild;
  if (!(cfn instanceof kms.CfnKey)) return undefined;
  const spec = cfn.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
  const usage = cfn.keyUsage ?? kms.KeyUsage.ENCRYPT_DECRYPT;
  if (spec === kms.KeySpec.SYMMETRIC_DEFAULT && usage === kms.KeyUsage.ENCRYPT_DECRYPT) return undefined;
  return `logEncryptionKey must be a symmetric ENCRYPT_DECRYPT key (CloudWatch Logs and SNS accept no other), got ${String(usage)} ${String(spec)}`;
}
