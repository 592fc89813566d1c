import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { perServerGatewayResponses } from '../../authorizer-gateway';
import type { ChallengeMode } from '../../protected-resources';
import { routesFor } from '../../routes';
import {
  addAuthorizationServerRoutes,
  addChallengeResponses,
  addGenericResponses,
  addRequestValidator,
  type AuthServerHandler,
  CHALLENGE_RESPONSE_TYPES,
  type BuiltMethods,
  Integrations,
  MethodSettings,
} from '../rest-api';
import type { ResolvedProps } from './props';

/**
 * Step 5: the authorization server's own routes and the API-wide answers. Each MCP server adds its
 * routes later (`_protect`), through the same integrations and method settings.
 */

export interface AuthorizationServerRoutes {
  readonly methods: BuiltMethods;
  readonly integrations: Integrations;
  readonly methodSettings: MethodSettings;
  /** The UNAUTHORIZED and ACCESS_DENIED answers; with one server (`gateway`) they are added with it. */
  readonly challengeResponses: apigateway.GatewayResponse[];
}

export function addAuthorizationServerApi(
  construct: Construct,
  resolved: ResolvedProps,
  api: { restApi: apigateway.RestApi; stage: apigateway.Stage },
  functions: Readonly<Record<AuthServerHandler, lambda.IFunction>>,
  challenges: ChallengeMode,
): AuthorizationServerRoutes {
  const { props } = resolved;
  const integrations = new Integrations();
  const methods = addAuthorizationServerRoutes({ api: api.restApi, functions, integrations, validator: addRequestValidator(api.restApi) });
  // On a brought API the construct touches its own routes and only the two API-wide answers MCP
  // discovery cannot do without; execution logging and every other gateway response stay the owner's.
  if (!props.restApi) addGenericResponses(api.restApi);
  const challengeResponses: apigateway.GatewayResponse[] = [];
  // With several servers the answers name no server: the authorizer's Deny carries each one's challenge.
  if (challenges === 'authorizer') challengeResponses.push(...addChallengeResponses(api.restApi, perServerGatewayResponses()));
  const methodSettings = new MethodSettings(api.stage, props.restApi ? undefined : apigateway.MethodLoggingLevel.ERROR);
  methodSettings.update(routesFor([]), new Map());
  if (props.restApi) {
    const brought = props.restApi;
    construct.node.addValidation({ validate: () => conflictingChallenges(brought, new Set(challengeResponses.map((response) => response.node.defaultChild)), resolved.kind) });
  }
  return { methods, integrations, methodSettings, challengeResponses };
}

/** Gateway responses of the authorizer challenge types that someone else defined on the API: CloudFormation would keep one of each. */
function conflictingChallenges(api: apigateway.RestApi, ours: ReadonlySet<unknown>, kind: string): string[] {
  return Stack.of(api)
    .node.findAll()
    .filter((c): c is apigateway.CfnGatewayResponse => c instanceof apigateway.CfnGatewayResponse && c.restApiId === api.restApiId && !ours.has(c))
    .filter((response) => (CHALLENGE_RESPONSE_TYPES as readonly string[]).includes(response.responseType))
    .map(
      (response) =>
        `restApi already has a ${response.responseType} gateway response (${response.node.scope?.node.path}): the construct answers ${response.responseType} with the MCP challenge (the 401 names the protected resource metadata), API-wide. Remove yours, or give the ${kind} an API of its own`,
    );
}
