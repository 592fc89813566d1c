import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Refuses `kms:CreateGrant` on the key to everyone but AWS services acting for an AWS resource. Key
 * administration delegates `kms:Create*` to IAM, and a grant is a second way to authorize: without this
 * statement, an identity given `kms:CreateGrant` could grant itself `kms:Sign` and bypass the key policy
 * that names the token role (Control Tower proactive control CT.KMS.PR.3).
 */
export function denyGrantsExceptForAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}
