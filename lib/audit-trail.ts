import { Stack } from 'aws-cdk-lib';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { claim, ownerOf } from './private/environment-owner';
import { type CreatedTrail, createTrail, type TrailOptions } from './private/trail';

/** @internal What a trail is bound to: the tables whose data events it records, and how logs are kept (as for `createTrail`). */
export interface AuditTrailBindContext extends Omit<TrailOptions, 'managementEvents'> {
  /**
   * Whether an earlier trail of the app may record for this instance (the default trail): management
   * events are then recorded once per account and Region. `AuditTrail.create()` given explicitly always
   * creates a full trail.
   */
  readonly shareEarlierTrail: boolean;
}

/** @internal What binding a trail created or refers to. */
export interface BoundAuditTrail {
  /** The trail the construct created. */
  readonly created?: Omit<CreatedTrail, 'addTables'>;
  /** The trail that records for this instance without being its own (brought, or an earlier instance's). */
  readonly existingTrail?: cloudtrail.ITrailRef;
  /** The log group of the management events that name the signing keys, when the construct knows it. */
  readonly managementEventsLogGroup?: logs.ILogGroup;
}

/** The trail of the first instance of an account and Region, which later instances of its stack share. */
type ManagementTrail = Pick<CreatedTrail, 'trail' | 'logGroup' | 'addTables'>;

/** Where the API calls on the signing key and the construct's tables are recorded. Create one with the static methods: the class is not for extension. */
export abstract class AuditTrail {
  /**
   * A new single-Region trail: management events (KMS included), DynamoDB data events for the
   * construct's tables, log file validation, KMS encryption, CloudWatch Logs delivery, and an SSL-only,
   * versioned, access-logged bucket.
   */
  public static create(): AuditTrail {
    return new CreatedAuditTrail();
  }

  /**
   * A trail you already run (for example an organization trail). The construct creates none and cannot
   * change yours: it must record management events, KMS included, and DynamoDB data events for the
   * tables in `tables`.
   */
  public static existing(trail: cloudtrail.ITrailRef): AuditTrail {
    return new ExistingAuditTrail(trail);
  }

  /** No trail. KMS key use and table access are then not recorded. */
  public static disabled(): AuditTrail {
    return new DisabledAuditTrail();
  }

  protected constructor() {}

  /** @internal Creates what the trail needs in `scope`, or finds the trail that records for it. */
  public abstract _bind(scope: Construct, context: AuditTrailBindContext): BoundAuditTrail;
}

/** @internal True for the kinds the static methods create (the construct refuses any other). */
export function isBuiltInAuditTrail(trail: AuditTrail): boolean {
  return trail instanceof CreatedAuditTrail || trail instanceof ExistingAuditTrail || trail instanceof DisabledAuditTrail;
}

class CreatedAuditTrail extends AuditTrail {
  public _bind(scope: Construct, context: AuditTrailBindContext): BoundAuditTrail {
    // By default a later instance adds its tables to the trail of an earlier one in its stack, or (in
    // another stack) creates a trail of its tables' data events only.
    const earlierTrail = context.shareEarlierTrail ? ownerOf<ManagementTrail>(scope, 'managementTrail') : undefined;
    if (earlierTrail && Stack.of(earlierTrail.trail) === Stack.of(scope)) {
      earlierTrail.addTables(context.tables);
      return { existingTrail: earlierTrail.trail.node.defaultChild as cloudtrail.CfnTrail, managementEventsLogGroup: earlierTrail.logGroup };
    }
    const { shareEarlierTrail: _share, ...trailOptions } = context;
    const created = createTrail(scope, { ...trailOptions, managementEvents: earlierTrail === undefined });
    if (!earlierTrail) claim<ManagementTrail>(scope, 'managementTrail', created);
    return { created, managementEventsLogGroup: (earlierTrail ?? created).logGroup };
  }
}

class ExistingAuditTrail extends AuditTrail {
  constructor(private readonly trail: cloudtrail.ITrailRef) {
    super();
  }

  public _bind(): BoundAuditTrail {
    return { existingTrail: this.trail };
  }
}

class DisabledAuditTrail extends AuditTrail {
  public _bind(): BoundAuditTrail {
    return {};
  }
}
