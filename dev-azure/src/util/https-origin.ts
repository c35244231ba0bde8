/** `value` as an https origin (https://host[:port], nothing after it); anything else is a configuration mistake named after `name`. */
export function httpsOrigin(name: string, value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (
    !u ||
    u.protocol !== 'https:' ||
    u.pathname !== '/' ||
    u.search ||
    u.hash ||
    u.username ||
    u.password ||
    value.endsWith('?') ||
    value.endsWith('#')
  ) {
    throw new Error(
      `${name} must be an https origin such as https://login.example.test (no path, query or credentials), got "${value}"`,
    );
  }
  return u.origin;
}
