import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TableDefinition, TTL_ATTRIBUTE } from '../tables';

/** `clients` -> `ClientsTable`: the construct id, part of the public contract (renaming one replaces the table). */
export function tableConstructId(definition: TableDefinition): string {
  return `${definition.name[0].toUpperCase()}${definition.name.slice(1)}Table`;
}

/**
 * One table of lib/tables.ts: on-demand, TTL on `ttl`, point-in-time recovery, server-side encryption
 * with the AWS managed key, and deletion protection whenever the table is retained (a stack update
 * cannot then drop registered clients or live grants by accident).
 */
export function createTable(scope: Construct, definition: TableDefinition, removalPolicy: RemovalPolicy): dynamodb.Table {
  const retained = removalPolicy !== RemovalPolicy.DESTROY;
  return new dynamodb.Table(scope, tableConstructId(definition), {
    partitionKey: { name: definition.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: retained,
    removalPolicy,
  });
}

/**
 * Checks a table the user brought, when its definition is visible at synth time (a `Table` defined in
 * the same app). Returns problems; an imported table cannot be checked and is trusted.
 */
export function checkBroughtTable(propName: string, table: dynamodb.ITable, definition: TableDefinition): string[] {
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof dynamodb.CfnTable)) return [];
  const problems: string[] = [];
  const keySchema = cfn.keySchema as dynamodb.CfnTable.KeySchemaProperty[] | undefined;
  const attributes = cfn.attributeDefinitions as dynamodb.CfnTable.AttributeDefinitionProperty[] | undefined;
  const hash = Array.isArray(keySchema) ? keySchema.find((key) => key.keyType === 'HASH') : undefined;
  const hashType = attributes?.find?.((attribute) => attribute.attributeName === hash?.attributeName)?.attributeType;
  const range = Array.isArray(keySchema) ? keySchema.find((key) => key.keyType === 'RANGE') : undefined;
  if (hash?.attributeName !== definition.partitionKey || hashType !== 'S' || range !== undefined) {
    problems.push(
      `${propName} must have the string partition key "${definition.partitionKey}" and no sort key, got ` +
        `${hash ? `"${hash.attributeName}" (${hashType})` : 'none'}${range ? ` and sort key "${range.attributeName}"` : ''}`,
    );
  }
  const ttl = cfn.timeToLiveSpecification as dynamodb.CfnTable.TimeToLiveSpecificationProperty | undefined;
  if (ttl?.enabled !== true || ttl.attributeName !== TTL_ATTRIBUTE) {
    problems.push(`${propName} must have TTL enabled on the "${TTL_ATTRIBUTE}" attribute, got ${ttl?.enabled ? `"${ttl.attributeName}"` : 'no TTL'}`);
  }
  return problems;
}
