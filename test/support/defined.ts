/** The value, or an error naming what is missing: for lookups noUncheckedIndexedAccess types as optional. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}
