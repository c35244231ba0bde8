// HTML layout and the strict Content-Security-Policy of the sign-in pages:
// nothing loads from anywhere, inline style/script only with a per-response
// nonce, forms post only to this origin (and to the client's redirect origin,
// because a redirect after a form post is checked against form-action too).
import type { FastifyReply } from 'fastify';
import { randomToken } from '../../util/encoding';

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** Tagged template that escapes every interpolated value unless it is a Raw fragment. */
export class Raw {
  constructor(readonly html: string) {}
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f3f5f8; margin: 0; color: #1b1b1b; }
  main { max-width: 26rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,.1); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=text], input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; font-size: 1rem; }
  .actions { margin-top: 1.5rem; display: flex; gap: .75rem; }
  button { padding: .55rem 1.2rem; font-size: 1rem; cursor: pointer; }
  .error { color: #a4262c; background: #fde7e9; padding: .5rem; border-radius: 4px; }
  .note { color: #444; font-size: .9rem; }
  .secret { font-family: ui-monospace, monospace; font-size: 1.05rem; letter-spacing: .1em; word-break: break-all; }
  .dev { border: 1px dashed #999; padding: .5rem; margin-top: 1rem; }
`;

export interface PageOptions {
  title: string;
  body: Raw;
  /** Extra origin forms may post to or be redirected to (the client's redirect URI). */
  formTarget?: string;
  script?: string;
  status?: number;
}

export function sendPage(reply: FastifyReply, o: PageOptions): FastifyReply {
  const nonce = randomToken(16);
  const formAction = ["'self'", o.formTarget ? sourceOf(o.formTarget) : undefined]
    .filter(Boolean)
    .join(' ');
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    'img-src data:',
    o.script ? `script-src 'nonce-${nonce}'` : "script-src 'none'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const doc = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>${o.title}</title>
        <style nonce="${nonce}">
          ${new Raw(STYLE)}
        </style>
      </head>
      <body>
        <main>${o.body}</main>
        ${
          o.script
            ? html`<script nonce="${nonce}">
                ${new Raw(o.script)};
              </script>`
            : ''
        }
      </body>
    </html>`;
  return reply
    .code(o.status ?? 200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(doc.html);
}

/** CSP source expression for a URL's origin ("https://localhost:8443"). */
function sourceOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export function errorPage(
  reply: FastifyReply,
  status: number,
  code: string | undefined,
  message: string,
): FastifyReply {
  return sendPage(reply, {
    title: 'Sign-in error',
    status,
    body: html`<h1>Sorry, something went wrong</h1>
      <p class="error" role="alert" id="errorMessage">${code ? `${code}: ` : ''}${message}</p>`,
  });
}
