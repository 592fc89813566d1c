import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from './key-policy';

/**
 * Key administration for the account (which IAM then delegates), without the cryptographic operations:
 * `kms:Sign` and `kms:GetPublicKey` are granted to named roles only, so no other identity in the
 * account can sign a token by being given a broad IAM policy.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

export interface SigningKeyOptions {
  readonly keySpec: kms.KeySpec;
  readonly removalPolicy: RemovalPolicy;
}

/** The asymmetric SIGN_VERIFY key tokens are signed with; its private half never leaves KMS. */
export function createSigningKey(scope: Construct, id: string, options: SigningKeyOptions): kms.Key {
  const policy = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'KeyAdministration',
        principals: [new iam.AccountRootPrincipal()],
        actions: KEY_ADMIN_ACTIONS,
        resources: ['*'],
      }),
    ],
  });
  const key = new kms.Key(scope, id, {
    description: `Signs the access tokens of ${scope.node.path} (asymmetric; the private key never leaves KMS)`,
    keySpec: options.keySpec,
    keyUsage: kms.KeyUsage.SIGN_VERIFY,
    policy,
    // A deleted signing key invalidates every token and cannot be recovered: give operators the longest window.
    pendingWindow: Duration.days(30),
    removalPolicy: options.removalPolicy,
  });
  denyGrantsExceptForAwsServices(key);
  return key;
}

/**
 * The key-policy half of a grant to one role. The statement names the account as principal and pins
 * the role with `aws:PrincipalArn`: KMS validates principals when the policy is written, and a role
 * created in the same deployment is not always visible to KMS yet, whereas a condition value is not
 * validated. The effect is the same: only that role, with its own IAM policy, may call the action.
 */
function keyPolicyStatement(sid: string | undefined, role: iam.IRole, action: string, conditions: Record<string, Record<string, string>> = {}): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.AccountRootPrincipal()],
    actions: [action],
    resources: ['*'],
    conditions: { ...conditions, ArnEquals: { 'aws:PrincipalArn': role.roleArn } },
  });
}

/**
 * `kms:Sign` with exactly one algorithm, in the role's policy and, for a key created here, in the key
 * policy too (a key imported with `fromKeyArn` keeps its own policy, which must delegate to IAM).
 */
export function grantSign(key: kms.IKey, role: iam.IRole, kmsSigningAlgorithm: string): void {
  const conditions = { StringEquals: { 'kms:SigningAlgorithm': kmsSigningAlgorithm } };
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources: [key.keyArn], conditions }));
  key.addToResourcePolicy(keyPolicyStatement('TokenSigning', role, 'kms:Sign', conditions), true);
}

/** `kms:GetPublicKey` on each key, for publishing the JWKS and verifying tokens. */
export function grantGetPublicKey(keys: readonly kms.IKey[], role: iam.IRole, sid: string): void {
  if (keys.length === 0) return;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: keys.map((key) => key.keyArn) }));
  for (const key of keys) key.addToResourcePolicy(keyPolicyStatement(sid, role, 'kms:GetPublicKey'), true);
}

/**
 * `kms:GetPublicKey` for any principal: through the key-policy pattern above for a role, or by naming
 * the principal in the key policy otherwise; always in the principal's own policy too.
 */
export function grantPublicKeyRead(keys: readonly kms.IKey[], grantee: iam.IGrantable): iam.Grant {
  const principal = grantee.grantPrincipal;
  const role = principal as Partial<iam.IRole>;
  for (const key of keys) {
    key.addToResourcePolicy(
      role.roleArn !== undefined
        ? keyPolicyStatement(undefined, principal as iam.IRole, 'kms:GetPublicKey')
        : new iam.PolicyStatement({ principals: [principal], actions: ['kms:GetPublicKey'], resources: ['*'] }),
      true,
    );
  }
  return iam.Grant.addToPrincipal({ grantee, actions: ['kms:GetPublicKey'], resourceArns: keys.map((key) => key.keyArn) });
}
