import { Annotations, Names, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { _acknowledge } from '../../acknowledgements';
import type { ChallengeMode } from '../../protected-resources';
import { claim, ownerOf } from '../environment-owner';
import { accessLogFormat, DEFAULT_THROTTLING } from '../rest-api';
import { ISSUER_PATH_WARNING } from '../../warnings';
import type { ResolvedProps } from './props';

/**
 * Step 2: the REST API, its stage and custom domain, and the issuer built from them. The issuer is
 * built from the API's id, never from the Stage, which would make every function depend on the
 * deployment, and the deployment on the functions.
 */

export interface ApiAndIssuer {
  readonly restApi: apigateway.RestApi;
  readonly stage: apigateway.Stage;
  readonly domain?: apigateway.DomainName;
  readonly accessLogGroup?: logs.LogGroup;
  /** The base URL, no trailing slash: the stage URL or `https://<domain>/<basePath>`. */
  readonly issuer: string;
  readonly region: string;
  /** What precedes the route paths in the request URIs the firewall sees (one per reachable URL). */
  readonly pathPrefixes: readonly string[];
}

export function createApiAndIssuer(construct: Construct, resolved: ResolvedProps, challenges: ChallengeMode): ApiAndIssuer {
  const { props, stageName, basePath, removalPolicy, logRetention } = resolved;
  // The API Gateway account setting is one per account and Region: the first instance of an
  // environment in the app creates it (unless told not to), later ones deploy after it.
  const accountRoleOwner = ownerOf<apigateway.RestApi>(construct, 'accountRole');
  const createAccountRole = !props.restApi && (props.cloudWatchRole ?? accountRoleOwner === undefined);
  let restApi: apigateway.RestApi;
  let accessLogGroup: logs.LogGroup | undefined;
  if (props.restApi) {
    restApi = props.restApi;
  } else {
    accessLogGroup = new logs.LogGroup(construct, 'AccessLogs', { retention: logRetention, removalPolicy, encryptionKey: props.logEncryptionKey });
    restApi = new apigateway.RestApi(construct, 'Api', {
      restApiName: Names.uniqueResourceName(construct, { maxLength: 255, separator: '-' }),
      description: challenges === 'gateway' ? `MCP server with its OAuth 2.1 authorization server (${construct.node.path})` : `OAuth 2.1 authorization server and its MCP servers (${construct.node.path})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // With a custom domain the issuer is the domain: a second URL would serve metadata naming the wrong issuer.
      disableExecuteApiEndpoint: props.domainName !== undefined,
      // Retained by RestApi's default (a removal policy is refused for a role it does not create):
      // the account setting outlives the stack, as other APIs of the account rely on it.
      cloudWatchRole: createAccountRole,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: accessLogFormat(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Full request/response logging would write tokens, codes and client secrets to CloudWatch.
        dataTraceEnabled: false,
        metricsEnabled: true,
        cachingEnabled: false,
        tracingEnabled: props.tracing ?? false,
        throttlingRateLimit: DEFAULT_THROTTLING.rateLimit,
        throttlingBurstLimit: DEFAULT_THROTTLING.burstLimit,
      },
    });
    _acknowledge(restApi.deploymentStage, 'noResponseCache');
    _acknowledge(restApi.deploymentStage, 'lambdaIntegrationsOnly');
    // RestApi adds an `Endpoint` stack output; the stack's outputs are its owner's to choose, and with a
    // custom domain that URL is disabled anyway. `mcpUrl` and `issuer` are the URLs to publish.
    restApi.node.tryRemoveChild('Endpoint');
    const accountRole = restApi.node.tryFindChild('CloudWatchRole');
    if (accountRole) _acknowledge(accountRole, 'apiGatewayAccountRole');
  }
  const stage = restApi.deploymentStage;
  if (createAccountRole) {
    claim(construct, 'accountRole', restApi);
  } else if (!props.restApi && props.cloudWatchRole === undefined && accountRoleOwner) {
    // Execution logging fails the stage deployment until the account has its CloudWatch role.
    stage.node.addDependency(accountRoleOwner.node.findChild('Account'));
    Annotations.of(construct).addInfo(`The API Gateway account CloudWatch role of this account and Region is created by ${accountRoleOwner.node.path}; this stage deploys after it.`);
  }
  let domain: apigateway.DomainName | undefined;
  if (props.domainName) {
    // Explicit TLS 1.2: without it the template leaves the policy to API Gateway's default.
    domain = new apigateway.DomainName(construct, 'CustomDomain', {
      ...props.domainName,
      securityPolicy: props.domainName.securityPolicy ?? apigateway.SecurityPolicy.TLS_1_2,
      mapping: restApi,
    });
  }
  const region = Stack.of(restApi).region;
  const stageUrl = `https://${restApi.restApiId}.execute-api.${region}.${Stack.of(restApi).urlSuffix}/${stageName}`;
  const issuer = props.domainName ? `https://${props.domainName.domainName}${basePath ? `/${basePath}` : ''}` : stageUrl;
  if (!props.domainName || basePath) {
    // RFC 8414 §3.1 / RFC 9728 §3.1 put the well-known URLs at the host root, which only a custom domain without a base path serves.
    Annotations.of(construct).addWarningV2(
      ISSUER_PATH_WARNING,
      `The issuer ${props.domainName ? `https://${props.domainName.domainName}/${basePath}` : `(the execute-api stage URL, …/${stageName})`} has a path, so the RFC 8414/9728 well-known URLs at the host root are not served: clients that only try those (Claude Code's \`claude mcp login\`, Gemini CLI when it cannot read the 401 challenge) cannot sign in. Set domainName without basePath (see the README, "Quick start").`,
    );
  }
  const pathPrefixes = [...(props.domainName ? [basePath ? `/${basePath}` : ''] : []), ...(!props.domainName || props.restApi ? [`/${stageName}`] : [])];
  return { restApi, stage, domain, accessLogGroup, issuer, region, pathPrefixes };
}
