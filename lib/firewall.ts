/** Requests per client IP in each five-minute window before AWS WAF blocks that IP on the path. */
export interface ManagedFirewallOptions {
  /** @default 20 */
  readonly registrationRateLimit?: number;
  /** @default 1000 */
  readonly tokenRateLimit?: number;
  /** @default 300 */
  readonly authorizationRateLimit?: number;
}

/** Which AWS WAF web ACL protects the API stage. */
export class Firewall {
  /** A web ACL created for the stage: per-IP rate limits on /register, /token and /authorize, the AWS managed Common and KnownBadInputs rule groups, and logging. */
  public static managed(options: ManagedFirewallOptions = {}): Firewall {
    return new Firewall('managed', options);
  }

  /** An existing regional web ACL, associated with the stage; its rules and logging are yours. */
  public static fromWebAclArn(webAclArn: string): Firewall {
    return new Firewall('existing', {}, webAclArn);
  }

  /** No web ACL. The stage is then exposed to floods that only API Gateway throttling limits. */
  public static disabled(): Firewall {
    return new Firewall('disabled', {});
  }

  private constructor(
    /** @internal */ public readonly _mode: 'managed' | 'existing' | 'disabled',
    /** @internal */ public readonly _options: ManagedFirewallOptions,
    /** @internal */ public readonly _webAclArn?: string,
  ) {}
}
