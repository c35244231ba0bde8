// The session cookie, read and written by hand (one cookie does not need a plugin).
// Secure + HttpOnly + SameSite=Lax + Path=/ and no Domain: the __Host- prefix rules.
import type { FastifyReply, FastifyRequest } from 'fastify';

const ATTRIBUTES = 'Path=/; Secure; HttpOnly; SameSite=Lax';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookie(reply: FastifyReply, name: string, value: string): void {
  appendSetCookie(reply, `${name}=${value}; ${ATTRIBUTES}`);
}

export function clearCookie(reply: FastifyReply, name: string): void {
  appendSetCookie(
    reply,
    `${name}=; ${ATTRIBUTES}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
  );
}

function appendSetCookie(reply: FastifyReply, value: string): void {
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  reply.header('set-cookie', [...list, value]);
}
