import { Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { _acknowledge } from './acknowledgements';
import { createWebAcl, firewallPathProblem, REGIONAL_WEB_ACL_ARN, type WebAclOptions } from './private/firewall';
import { Problems } from './private/validation';

/** Requests per client IP in each five-minute window before AWS WAF blocks that IP on the path. */
export interface ManagedFirewallOptions {
  /** @default 20 */
  readonly registrationRateLimit?: number;
  /** @default 1000 */
  readonly tokenRateLimit?: number;
  /** @default 300 */
  readonly authorizationRateLimit?: number;
}

/** @internal What a firewall is bound to: the stage, its path prefixes and how logs are kept (as for `createWebAcl`). */
export interface FirewallBindContext extends Omit<WebAclOptions, 'rateLimits'> {
  readonly stage: apigateway.Stage;
}

/** @internal What binding a firewall created or refers to. */
export interface BoundFirewall {
  readonly webAclArn?: string;
  readonly webAcl?: wafv2.CfnWebACL;
  /** The name of the web ACL the construct created (its WAF metrics' dimension). */
  readonly webAclName?: string;
  readonly logGroup?: logs.LogGroup;
}

/** Which AWS WAF web ACL protects the API stage. Create one with the static methods: the class is not for extension. */
export abstract class Firewall {
  /** A web ACL created for the stage: per-IP rate limits on /register, /token and /authorize, the AWS managed Common and KnownBadInputs rule groups, and logging. */
  public static managed(options: ManagedFirewallOptions = {}): Firewall {
    return new ManagedFirewall(options);
  }

  /** An existing regional web ACL, associated with the stage; its rules and logging are yours. */
  public static fromWebAclArn(webAclArn: string): Firewall {
    return new ExistingFirewall(webAclArn);
  }

  /** No web ACL. The stage is then exposed to floods that only API Gateway throttling limits. */
  public static disabled(): Firewall {
    return new DisabledFirewall();
  }

  protected constructor() {}

  /** @internal What is wrong with the options, checked with every other prop before anything is created. */
  public abstract _problems(): string[];

  /** @internal What keeps this firewall from protecting an MCP endpoint at `path`. */
  public _pathProblem(_path: string): string | undefined {
    return undefined;
  }

  /** @internal Creates what the firewall needs in `scope` and associates it with the stage. */
  public abstract _bind(scope: Construct, context: FirewallBindContext): BoundFirewall;
}

/** @internal True for the kinds the static methods create (the construct refuses any other). */
export function isBuiltInFirewall(firewall: Firewall): boolean {
  return firewall instanceof ManagedFirewall || firewall instanceof ExistingFirewall || firewall instanceof DisabledFirewall;
}

/** Associates a web ACL with the stage (the one association a stage can have). */
function associate(scope: Construct, context: FirewallBindContext, webAclArn: string): void {
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: context.stage.stageArn, webAclArn });
}

class ManagedFirewall extends Firewall {
  private readonly rateLimits: { register: number; token: number; authorize: number };

  constructor(options: ManagedFirewallOptions) {
    super();
    this.rateLimits = {
      register: options.registrationRateLimit ?? 20,
      token: options.tokenRateLimit ?? 1000,
      authorize: options.authorizationRateLimit ?? 300,
    };
  }

  public _problems(): string[] {
    // WAF accepts rate limits from 10 to 2,000,000,000 per evaluation window.
    const problems = new Problems();
    problems.integer('Firewall.managed registrationRateLimit', this.rateLimits.register, 10, 2_000_000_000);
    problems.integer('Firewall.managed tokenRateLimit', this.rateLimits.token, 10, 2_000_000_000);
    problems.integer('Firewall.managed authorizationRateLimit', this.rateLimits.authorize, 10, 2_000_000_000);
    return [...problems.all];
  }

  public _pathProblem(path: string): string | undefined {
    return firewallPathProblem(path);
  }

  public _bind(scope: Construct, context: FirewallBindContext): BoundFirewall {
    const created = createWebAcl(scope, { ...context, rateLimits: this.rateLimits });
    associate(scope, context, created.webAcl.attrArn);
    return { webAcl: created.webAcl, webAclName: created.webAclName, logGroup: created.logGroup, webAclArn: created.webAcl.attrArn };
  }
}

class ExistingFirewall extends Firewall {
  constructor(private readonly webAclArn: string) {
    super();
  }

  public _problems(): string[] {
    if (Token.isUnresolved(this.webAclArn) || REGIONAL_WEB_ACL_ARN.test(this.webAclArn)) return [];
    return [`Firewall.fromWebAclArn needs a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>), got ${JSON.stringify(this.webAclArn)}`];
  }

  public _bind(scope: Construct, context: FirewallBindContext): BoundFirewall {
    associate(scope, context, this.webAclArn);
    return { webAclArn: this.webAclArn };
  }
}

class DisabledFirewall extends Firewall {
  public _problems(): string[] {
    return [];
  }

  public _bind(_scope: Construct, context: FirewallBindContext): BoundFirewall {
    _acknowledge(context.stage, 'firewallDisabled');
    return {};
  }
}
