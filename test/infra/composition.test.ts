import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SecureMcpServerProps } from '../../lib';
import { buildStack, resourcesOfType } from './support';

/**
 * The construct as platform teams compose it (issue 12): props both ways, brought resources, several
 * stacks and several instances of one app. Every case synthesizes; none needs an AWS account.
 */

function errorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the synth to be refused');
}

describe('INFRA-12.1 the cloudWatchRole prop', () => {
  it.each<[string, Partial<SecureMcpServerProps>, number]>([
    ['creates the account role and setting by default', {}, 1],
    ['creates them when true', { cloudWatchRole: true }, 1],
    ['creates neither when false, and still synthesizes', { cloudWatchRole: false }, 0],
  ])('%s', (_, props, count) => {
    const template = Template.fromStack(buildStack(props).stack);
    template.resourceCountIs('AWS::ApiGateway::Account', count);
    const roles = Object.values(resourcesOfType(template, 'AWS::IAM::Role')).filter((role) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
    );
    expect(roles).toHaveLength(count);
    for (const account of Object.values(template.findResources('AWS::ApiGateway::Account'))) expect(account.DeletionPolicy).toBe('Retain');
  });
});
