import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { _acknowledge } from '../acknowledgements';
import type { BundleName } from '../functions';
import { bundleDirectory } from './assets';

export interface HandlerFunctionProps {
  readonly bundle: BundleName;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default - none: the function scales with the account's unreserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
  /** @default false */
  readonly tracing?: boolean;
  /** @default - not in a VPC */
  readonly network?: FunctionNetwork;
}

/** Where a function's network interfaces go, when it runs in a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/** Lambda refuses a function whose environment variables (names and values) exceed 4 KB in total. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * One prebuilt handler bundle as a Lambda function with its own role and its own log group. The role
 * starts with nothing but writing to that log group (no AWSLambdaBasicExecutionRole, which would also
 * allow creating log groups anywhere); every other permission is granted explicitly by the caller.
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: props.removalPolicy, encryptionKey: props.logEncryptionKey });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}/Function`,
    });
    this.logGroup.grantWrite(this.role);
    // Lambda adds this policy only to roles it creates; a function in a VPC manages its network interfaces.
    if (props.network) this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(bundleDirectory(props.bundle)),
      handler: 'index.handler',
      memorySize: props.memorySize,
      timeout: props.timeout,
      environment: props.environment,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.vpcSubnets,
      securityGroups: props.network?.securityGroups,
    });
    // The log group exists before the function runs, so the function never needs logs:CreateLogGroup.
    this.function.node.addDependency(this.logGroup);
    // Facts of the design rather than policy choices (lib/acknowledgements.ts), acknowledged here for
    // teams that run the NIST 800-53, HIPAA, PCI and Serverless packs; every other finding stays visible.
    _acknowledge(this.function, 'synchronousInvocation');
    if (props.network) _acknowledge(this.role, 'vpcNetworkInterfaces');
    else _acknowledge(this.function, 'outsideVpc');
    if (props.tracing) _acknowledge(this.role, 'tracingWrites');
  }
}

/** What an unresolved token (a table name, an ARN, the API id) is assumed to become: longer than any of them. */
const TOKEN_ALLOWANCE_BYTES = 160;
const TOKEN_PLACEHOLDER = /\$\{Token\[[^\]]+\]\}/g;

/** An upper bound of the environment's deployed size: Lambda counts names and values. */
export function environmentSize(environment: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(environment)) {
    const tokens = value.match(TOKEN_PLACEHOLDER)?.length ?? 0;
    total += Buffer.byteLength(name) + Buffer.byteLength(value.replace(TOKEN_PLACEHOLDER, '')) + tokens * TOKEN_ALLOWANCE_BYTES;
  }
  return total;
}

export function checkEnvironmentSize(name: string, environment: Record<string, string>, remedy = 'shorten the scope model (scope descriptions, tool names)'): string | undefined {
  const size = environmentSize(environment);
  if (size <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return undefined;
  return `the ${name} function's environment would take about ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit: ${remedy}`;
}
