import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';

/** Where the API calls on the signing key and the construct's tables are recorded. */
export class AuditTrail {
  /**
   * A new single-Region trail: management events (KMS included), DynamoDB data events for the
   * construct's tables, log file validation, KMS encryption, CloudWatch Logs delivery, and an SSL-only,
   * versioned, access-logged bucket.
   */
  public static create(): AuditTrail {
    return new AuditTrail('create');
  }

  /**
   * A trail you already run (for example an organization trail). The construct creates none and cannot
   * change yours: it must record management events, KMS included, and DynamoDB data events for the
   * tables in `tables`.
   */
  public static existing(trail: cloudtrail.ITrailRef): AuditTrail {
    return new AuditTrail('existing', trail);
  }

  /** No trail. KMS key use and table access are then not recorded. */
  public static disabled(): AuditTrail {
    return new AuditTrail('disabled');
  }

  private constructor(
    /** @internal */ public readonly _mode: 'create' | 'existing' | 'disabled',
    /** @internal */ public readonly _trail?: cloudtrail.ITrailRef,
  ) {}
}
