// Reply URL matching as Azure does it: exact, except that a registered
// loopback URL (localhost / 127.0.0.1) matches any port.

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

export function redirectUriAllowed(registered: string[], requested: string): boolean {
  let req: URL;
  try {
    req = new URL(requested);
  } catch {
    return false;
  }
  if (req.hash || (req.protocol !== 'https:' && req.protocol !== 'http:')) return false;
  return registered.some((r) => {
    if (r === requested) return true;
    const reg = new URL(r);
    return (
      isLoopback(reg.hostname) &&
      reg.hostname === req.hostname &&
      reg.protocol === req.protocol &&
      reg.pathname === req.pathname &&
      reg.search === req.search
    );
  });
}
