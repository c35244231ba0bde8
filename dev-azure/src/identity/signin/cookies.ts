// Cookies of the sign-in pages: HttpOnly, Secure, SameSite=Lax (the
// authorize request arrives as a top-level navigation from the client).
// Hand-rolled: a few fixed names with base64url values need no library.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Binds a transaction to the browser that started it (double-submit with the form's csrf_token). */
export const BROWSER_COOKIE = 'x-ms-cpim-csrf';

const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Lax';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
  }
  return undefined;
}

function append(reply: FastifyReply, line: string): void {
  const existing = reply.getHeader('set-cookie');
  const list = Array.isArray(existing)
    ? existing.map(String)
    : existing === undefined
      ? []
      : [String(existing)];
  void reply.header('set-cookie', [...list, line]);
}

export function setCookie(reply: FastifyReply, name: string, value: string): void {
  append(reply, `${name}=${value}; ${ATTRIBUTES}`);
}

export function clearCookie(reply: FastifyReply, name: string): void {
  append(reply, `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${ATTRIBUTES}`);
}
