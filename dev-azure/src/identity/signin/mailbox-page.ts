// GET /_dev/mailbox[?to=address]: what the stand-in "sent" (one-time codes by
// email or SMS), newest first. Development only, like everything here.
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../context';
import { html, sendPage } from './html';

export function registerMailboxPage(
  app: FastifyInstance,
  ctx: IdentityContext,
  path: string,
): void {
  app.get(path, async (req, reply) => {
    const to = (req.query as Record<string, unknown>).to;
    const messages = ctx.mailbox.list({ to: typeof to === 'string' ? to : undefined });
    const tenantName = (id: string) => ctx.directory.tenant(id)?.name ?? id;
    return sendPage(reply, {
      title: 'Development mailbox',
      body: html`<h1>Development mailbox</h1>
        <p class="note">
          Codes the local identity stand-in would have sent by email or
          SMS${typeof to === 'string' ? html` to <strong>${to}</strong>` : ''}. Newest first.
        </p>
        ${
          messages.length === 0
            ? html`<p id="emptyMailbox">No messages.</p>`
            : html`<ol id="messages">
                ${messages.map(
                  (m) =>
                    html`<li class="message" data-to="${m.to}" data-purpose="${m.purpose}">
                      <strong>${m.subject}</strong> (${m.channel} to ${m.to},
                      ${tenantName(m.tenantId)}, ${new Date(m.sentAt * 1000).toISOString()}):
                      <span class="secret code">${m.code}</span>
                    </li>`,
                )}
              </ol>`
        }`,
    });
  });
}
