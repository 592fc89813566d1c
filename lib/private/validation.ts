import { Duration, Token } from 'aws-cdk-lib';

/**
 * Collects every invalid prop before anything is created, so a user fixes them all in one round and
 * no half-built construct tree is left behind. Each message says what was wrong, what was received
 * and what is allowed.
 */
export class Problems {
  private readonly messages: string[] = [];

  add(message: string): void {
    this.messages.push(message);
  }

  /** Checks a Duration against an inclusive range, in whole seconds. Unresolved durations are skipped. */
  duration(name: string, value: Duration | undefined, min: Duration, max: Duration, range: string): void {
    if (value === undefined || Token.isUnresolved(value.toSeconds({ integral: false }))) return;
    const seconds = value.toSeconds({ integral: false });
    if (!Number.isInteger(seconds)) {
      this.add(`${name} must be a whole number of seconds, got ${value.toHumanString()}`);
    } else if (seconds < min.toSeconds() || seconds > max.toSeconds()) {
      this.add(`${name} must be between ${range}, got ${value.toHumanString()}`);
    }
  }

  /** Checks an integer against an inclusive range. Unresolved numbers are skipped. */
  integer(name: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.add(`${name} must be a whole number between ${min} and ${max}, got ${value}`);
    }
  }

  /** Every problem so far. */
  get all(): readonly string[] {
    return this.messages;
  }

  /** Throws one error listing every problem, prefixed with what was invalid (`SecureMcpServer props`) and the construct path. */
  throwIfAny(path: string, subject = 'SecureMcpServer props'): void {
    if (this.messages.length === 0) return;
    const list = this.messages.map((message) => `  - ${message}`).join('\n');
    throw new Error(`Invalid ${subject} at ${path}:\n${list}`);
  }
}

/** `scheme://host[:port]` exactly as browsers send it in `Origin`: lower case, no path, no trailing slash. */
export function isOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
}

/** A DNS host name (what `ALLOWED_REDIRECT_HOSTS` compares redirect URI hosts with). */
export function isHostName(value: string): boolean {
  return value.length <= 253 && /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/.test(value);
}
