import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStack, type PolicyStatementJson, render, resourcesOfType } from '../support/stack';

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
  const policyChanges = statements.filter((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).includes('kms:PutKeyPolicy'));
  expect(policyChanges).toHaveLength(1);
  // Named by aws:PrincipalArn on the account principal: KMS would refuse a role it cannot see yet as a principal.
  expect(render((policyChanges[0].Principal as { AWS: unknown }).AWS)).toBe('arn:{AWS::Partition}:iam::{AWS::AccountId}:root');
  expect(policyChanges[0].Condition).toEqual({ ArnEquals: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1'] } });
  const administration = statements.find((statement) => statement.Sid === 'KeyAdministration')!;
  expect(administration.Action).not.toContain('kms:PutKeyPolicy');
  expect(administration.Action).not.toContain('kms:CreateGrant');
  expect((administration.Action as string[]).filter((action) => action.endsWith('*'))).toEqual(['kms:Describe*', 'kms:List*']);
});

test('REV-05 signingKeyAdmins with a brought signingKey is refused at synth (the construct never rewrites a key it did not create)', () => {
  expect(() =>
    buildStack({
      signingKey: kms.Key.fromKeyArn(new Stack(), 'Brought', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
      signingKeyAdmins: [new iam.ArnPrincipal('arn:aws:iam::111122223333:role/admin')],
    }),
  ).toThrow(/signingKeyAdmins applies only to the key the construct creates.*got both/);
});
