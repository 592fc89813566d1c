import { subjectHash } from './crypto';
import type { Clock } from './clock';

/**
 * One structured JSON line per security decision (catalogue section N). Fields are identifiers and
 * stable reasons only: never a secret, token, code or raw subject (subjects are hashed).
 */
export interface AuditContext {
  readonly requestId: string;
  readonly ip?: string;
  readonly userAgent?: string;
}

export interface AuditFields {
  reason?: string;
  client_id?: string;
  /** The raw subject; written only as `sub_hash`. */
  sub?: string;
  [key: string]: string | number | boolean | string[] | undefined;
}

export type AuditSink = (line: string) => void;

/** Lambda captures stdout line by line; raw JSON lines feed the CloudWatch metric filters. */
export const stdoutSink: AuditSink = (line) => {
  process.stdout.write(line + '\n');
};

export type Audit = (event: string, fields?: AuditFields) => void;

export function createAudit(context: AuditContext, sink: AuditSink, clock: Clock): Audit {
  return (event, fields = {}) => {
    const { sub, ...rest } = fields;
    const record: Record<string, unknown> = {
      event,
      ...rest,
      ...(sub !== undefined ? { sub_hash: subjectHash(sub) } : {}),
      request_id: context.requestId,
      ip: context.ip,
      ua: context.userAgent?.slice(0, 256),
      ts: clock(),
    };
    sink(JSON.stringify(record));
  };
}
