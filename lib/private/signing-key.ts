import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from './key-policy';

/**
 * Key administration for the account (which IAM then delegates), without the cryptographic operations
 * and without the two actions that lead to them (REV-05): `kms:CreateGrant` (a grant with
 * `Operations=[Sign]` would let its grantee sign tokens) and `kms:PutKeyPolicy` (granted separately,
 * to the key administrators). Explicit names, no wildcards: `kms:Create*` and `kms:Put*` included both.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:Describe*',
  'kms:List*',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

export interface SigningKeyOptions {
  readonly keySpec: kms.KeySpec;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Who may change the key policy (`kms:PutKeyPolicy`). Must include the role that deploys the stack.
   * @default - principals of this account whose IAM policies allow it
   */
  readonly administrators?: iam.IPrincipal[];
}

/**
 * `kms:PutKeyPolicy` for the key administrators, named by `aws:PrincipalArn` on the account principal
 * where their ARN is known (KMS validates principals when the policy is written, and a role created in
 * the same deployment may not be visible yet); without administrators, the account (IAM decides).
 */
function keyPolicyChanges(administrators: readonly iam.IPrincipal[]): iam.PolicyStatement[] {
  const statement = (sid: string, principals: iam.IPrincipal[], conditions?: Record<string, Record<string, unknown>>) =>
    new iam.PolicyStatement({ sid, principals, actions: ['kms:PutKeyPolicy'], resources: ['*'], ...(conditions ? { conditions } : {}) });
  if (administrators.length === 0) return [statement('KeyPolicyChanges', [new iam.AccountRootPrincipal()])];
  const arnOf = (principal: iam.IPrincipal) => (principal as Partial<iam.IRole>).roleArn ?? (principal instanceof iam.ArnPrincipal ? principal.arn : undefined);
  const byArn = administrators.map(arnOf).filter((arn): arn is string => arn !== undefined);
  const named = administrators.filter((principal) => arnOf(principal) === undefined);
  return [
    ...(byArn.length > 0 ? [statement('KeyPolicyChanges', [new iam.AccountRootPrincipal()], { ArnEquals: { 'aws:PrincipalArn': byArn } })] : []),
    ...(named.length > 0 ? [statement('KeyPolicyChangesByPrincipal', named)] : []),
  ];
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
      ...keyPolicyChanges(options.administrators ?? []),
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
 * The key-policy half of a grant, for a key of the grantee's own stack (or an imported key, where it is
 * a no-op). A key of another stack keeps its policy, which must let IAM policies grant the action (as
 * `kms.Key`'s default policy does): naming the role there would make the key's stack depend on the
 * role's, which already depends on the key's.
 */
function addToKeyPolicy(key: kms.IKey, grantee: unknown, statement: iam.PolicyStatement): void {
  if (Construct.isConstruct(grantee) && Stack.of(key) !== Stack.of(grantee)) return;
  key.addToResourcePolicy(statement, true);
}

/**
 * `kms:Sign` with exactly one algorithm, in the role's policy and, for a key created here, in the key
 * policy too (a key imported with `fromKeyArn` keeps its own policy, which must delegate to IAM).
 * `exclusive` (a key this construct created) adds an explicit Deny of Sign for every other principal:
 * explicit denies win over IAM policies and grants, so not even an account administrator can sign a
 * token without first replacing the key policy, which CloudTrail records (REV-05).
 */
export function grantSign(key: kms.IKey, role: iam.IRole, kmsSigningAlgorithm: string, exclusive = false): void {
  const conditions = { StringEquals: { 'kms:SigningAlgorithm': kmsSigningAlgorithm } };
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources: [key.keyArn], conditions }));
  addToKeyPolicy(key, role, keyPolicyStatement('TokenSigning', role, 'kms:Sign', conditions));
  if (exclusive) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SigningByTokenFunctionOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
      true,
    );
  }
}

/** `kms:GetPublicKey` on each key, for publishing the JWKS and verifying tokens. */
export function grantGetPublicKey(keys: readonly kms.IKey[], role: iam.IRole, sid: string): void {
  if (keys.length === 0) return;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: keys.map((key) => key.keyArn) }));
  for (const key of keys) addToKeyPolicy(key, role, keyPolicyStatement(sid, role, 'kms:GetPublicKey'));
}

/**
 * `kms:GetPublicKey` for any principal: through the key-policy pattern above for a role, or by naming
 * the principal in the key policy otherwise; always in the principal's own policy too.
 */
export function grantPublicKeyRead(keys: readonly kms.IKey[], grantee: iam.IGrantable): iam.Grant {
  const principal = grantee.grantPrincipal;
  const role = principal as Partial<iam.IRole>;
  for (const key of keys) {
    addToKeyPolicy(
      key,
      principal,
      role.roleArn !== undefined
        ? keyPolicyStatement(undefined, principal as iam.IRole, 'kms:GetPublicKey')
        : new iam.PolicyStatement({ principals: [principal], actions: ['kms:GetPublicKey'], resources: ['*'] }),
    );
  }
  return iam.Grant.addToPrincipal({ grantee, actions: ['kms:GetPublicKey'], resourceArns: keys.map((key) => key.keyArn) });
}
