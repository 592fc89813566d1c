import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BundleName, bundleDirectory } from './assets';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES } from './environment';

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
}

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
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}/Function`,
    });
    this.logGroup.grantWrite(this.role);
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
    });
    // The log group exists before the function runs, so the function never needs logs:CreateLogGroup.
    this.function.node.addDependency(this.logGroup);
    // Facts of the design rather than policy choices, so they are acknowledged here for teams that
    // run the NIST 800-53 and Serverless packs; every other finding of those packs stays visible.
    const dlq = 'API Gateway invokes this function synchronously and returns its errors to the caller; a dead-letter queue only applies to asynchronous invocations';
    Validations.of(this.function).acknowledge(
      {
        id: 'NIST.800.53.R5-LambdaInsideVPC',
        reason: 'The function calls only public AWS endpoints and, for sign-in and Client ID Metadata Documents, the internet; a VPC would add NAT cost and no isolation',
      },
      { id: 'NIST.800.53.R5-LambdaDLQ', reason: dlq },
      { id: 'Serverless-LambdaDLQ', reason: dlq },
    );
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

export function checkEnvironmentSize(name: string, environment: Record<string, string>): string | undefined {
  const size = environmentSize(environment);
  if (size <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return undefined;
  return `the ${name} function's environment would take about ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit: shorten the scope model (scope descriptions, tool names)`;
}
