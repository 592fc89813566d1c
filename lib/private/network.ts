import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { FunctionNetwork } from './handler-function';

export interface NetworkOptions {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly createEndpoints: boolean;
}

export interface CreatedNetwork extends FunctionNetwork {
  /** The security group the construct created, when none was brought. */
  readonly securityGroup?: ec2.SecurityGroup;
  readonly endpoints: Readonly<Record<string, ec2.IVpcEndpoint>>;
}

/**
 * Where the functions run when they are placed in a VPC. Every call they make is HTTPS: DynamoDB, KMS
 * and Secrets Manager (through the VPC endpoints, or NAT), the upstream identity provider, Client ID
 * Metadata Documents and the JWKS at the issuer (through NAT). So the default security group allows
 * TCP 443 out and nothing in; DNS goes to the VPC resolver, which security groups do not filter.
 */
export function createNetwork(scope: Construct, options: NetworkOptions): CreatedNetwork {
  let securityGroup: ec2.SecurityGroup | undefined;
  let securityGroups = options.securityGroups;
  if (!securityGroups || securityGroups.length === 0) {
    securityGroup = new ec2.SecurityGroup(scope, 'FunctionSecurityGroup', {
      vpc: options.vpc,
      description: `Functions of ${scope.node.path}: HTTPS out only`,
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs, the upstream identity provider, client metadata documents and the JWKS');
    securityGroups = [securityGroup];
  }
  const vpcSubnets = options.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const endpoints: Record<string, ec2.IVpcEndpoint> = {};
  if (options.createEndpoints) {
    endpoints.DynamoDbEndpoint = new ec2.GatewayVpcEndpoint(scope, 'DynamoDbEndpoint', {
      vpc: options.vpc,
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [vpcSubnets],
    });
    for (const [id, service] of [
      ['KmsEndpoint', ec2.InterfaceVpcEndpointAwsService.KMS],
      ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
    ] as const) {
      const endpointGroup = new ec2.SecurityGroup(scope, `${id}SecurityGroup`, {
        vpc: options.vpc,
        description: `${id} of ${scope.node.path}: HTTPS from the functions only`,
        allowAllOutbound: false,
      });
      for (const group of securityGroups) endpointGroup.addIngressRule(group, ec2.Port.tcp(443), `HTTPS from the functions of ${scope.node.path}`);
      endpoints[id] = new ec2.InterfaceVpcEndpoint(scope, id, {
        vpc: options.vpc,
        service,
        subnets: vpcSubnets,
        securityGroups: [endpointGroup],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }
  return { vpc: options.vpc, vpcSubnets, securityGroups, securityGroup, endpoints };
}
