import { Aws, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from './key-policy';

export interface TrailOptions {
  readonly tables: readonly dynamodb.ITable[];
  /** Record every management event (KMS included); false when another trail of the app records them in this account and Region. */
  readonly managementEvents: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
}

export interface CreatedTrail {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly key: kms.Key;
  readonly logGroup: logs.LogGroup;
  /** Records the DynamoDB data events of more tables (another instance of the same stack sharing the trail). */
  addTables(tables: readonly dynamodb.ITable[]): void;
}

function auditBucket(scope: Construct, id: string, accessLogs?: { bucket: s3.IBucket; prefix: string }): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    serverAccessLogsBucket: accessLogs?.bucket,
    serverAccessLogsPrefix: accessLogs?.prefix,
    // Audit evidence outlives the stack, whatever the construct's removal policy.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * A single-Region trail for the construct's account and Region: every management event (KMS key use
 * and administration included, unless another trail records them) and the DynamoDB data events of the construct's tables, with log file
 * validation, KMS encryption, delivery to CloudWatch Logs and an SSL-only, versioned, access-logged bucket.
 */
export function createTrail(scope: Construct, options: TrailOptions): CreatedTrail {
  const key = new kms.Key(scope, 'TrailKey', {
    description: `Encrypts the CloudTrail log files of ${scope.node.path}`,
    enableKeyRotation: true,
    // Retained like the log files it encrypts: deleting it would make them unreadable.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const cloudTrailService = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
  const sameAccount = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudTrailEncryptLogs',
      principals: [cloudTrailService],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        ...sameAccount,
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
      },
    }),
  );
  denyGrantsExceptForAwsServices(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({ sid: 'CloudTrailDescribeKey', principals: [cloudTrailService], actions: ['kms:DescribeKey'], resources: ['*'], conditions: sameAccount }),
  );

  const accessLogsBucket = auditBucket(scope, 'TrailAccessLogsBucket');
  const bucket = auditBucket(scope, 'TrailBucket', { bucket: accessLogsBucket, prefix: 'trail-bucket/' });
  const logGroup = new logs.LogGroup(scope, 'TrailLogGroup', { retention: options.logRetention, removalPolicy: options.removalPolicy, encryptionKey: options.logEncryptionKey });

  const trail = new cloudtrail.Trail(scope, 'Trail', {
    bucket,
    encryptionKey: key,
    enableFileValidation: true,
    sendToCloudWatchLogs: true,
    cloudWatchLogGroup: logGroup,
    isMultiRegionTrail: false,
  });
  // Advanced event selectors: the L2 Trail's basic selectors cannot name DynamoDB tables, and the two
  // kinds cannot be combined on one trail.
  const cfnTrail = trail.node.defaultChild as cloudtrail.CfnTrail;
  cfnTrail.addPropertyDeletionOverride('EventSelectors');
  const tables = [...options.tables];
  cfnTrail.advancedEventSelectors = [
    ...(options.managementEvents ? [{ name: 'All management events, KMS included', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] }] : []),
    {
      name: 'DynamoDB data events on the authorization server tables',
      fieldSelectors: [
        { field: 'eventCategory', equalTo: ['Data'] },
        { field: 'resources.type', equalTo: ['AWS::DynamoDB::Table'] },
        { field: 'resources.ARN', equalTo: Lazy.list({ produce: () => tables.map((table) => table.tableArn) }) },
      ],
    },
  ];
  return { trail, bucket, accessLogsBucket, key, logGroup, addTables: (more) => tables.push(...more) };
}
