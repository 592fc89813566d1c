import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStack, type PolicyStatementJson, render, resourcesOfType } from './support';

/** REV-05: who may change the signing key's policy is the operator's choice; nobody else signs. */

const statementsOf = (template: Template) => {
  const keys = resourcesOfType(template, 'AWS::KMS::Key');
  const signing = Object.entries(keys).find(([, key]) => key.Properties.KeySpec === 'RSA_2048')!;
  return signing[1].Properties.KeyPolicy.Statement as PolicyStatementJson[];
};

test('REV-05 signingKeyAdmins are the only principals that may change the key policy; the account keeps administration without grants or policy changes', () => {
  const deployer = new iam.ArnPrincipal('arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1');
  const { stack: adminStack } = buildStack({ signingKeyAdmins: [deployer] }, 'WithAdmins');
  const statements = statementsOf(Template.fromStack(adminStack));
  const policyChanges = statements.find((statement) => statement.Sid === 'KeyPolicyChanges')!;
  expect(render((policyChanges.Principal as { AWS: unknown }).AWS)).toBe('arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1');
  const administration = statements.find((statement) => statement.Sid === 'KeyAdministration')!;
  expect(administration.Action).not.toContain('kms:PutKeyPolicy');
  expect(administration.Action).not.toContain('kms:CreateGrant');
  expect((administration.Action as string[]).filter((action) => action.endsWith('*'))).toEqual(['kms:Describe*', 'kms:List*']);
});
