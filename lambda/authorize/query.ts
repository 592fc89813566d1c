import type { HttpEvent } from '../shared/http';

/**
 * The query of a REST API proxy event, as API Gateway decoded it. The multi-value map shows repeated
 * parameters (AZR-09); an empty value counts as omitted (AZR-10).
 */
export class QueryParameters {
  private constructor(private readonly values: ReadonlyMap<string, readonly string[]>) {}

  static of(event: HttpEvent): QueryParameters {
    const multi = event.multiValueQueryStringParameters;
    if (multi) return new QueryParameters(new Map(Object.entries(multi).map(([name, list]) => [name, list ?? []])));
    const single = event.queryStringParameters ?? {};
    return new QueryParameters(new Map(Object.entries(single).map(([name, value]) => [name, value === undefined ? [] : [value]])));
  }

  /** The value, or undefined when absent, empty or repeated (check {@link repeated} first where it matters). */
  get(name: string): string | undefined {
    const list = this.values.get(name) ?? [];
    return list.length === 1 && list[0] !== '' ? list[0] : undefined;
  }

  repeated(name: string): boolean {
    return (this.values.get(name)?.length ?? 0) > 1;
  }

  /** The first of `names` that appears more than once. */
  firstRepeated(names: readonly string[]): string | undefined {
    return names.find((name) => this.repeated(name));
  }

  /** Every parameter with every value (repeats kept, for the OIDC library to refuse), as URLSearchParams. */
  toSearchParams(): URLSearchParams {
    const params = new URLSearchParams();
    for (const [name, list] of this.values) for (const value of list) params.append(name, value);
    return params;
  }
}
