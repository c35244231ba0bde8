// A minimal "browser" over fetch: a cookie jar, redirects followed on the
// identity origin, forms parsed and posted. It stops at the first redirect
// that leaves the identity server (the client's redirect URI) and reports it.

export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export type Step = { page: Page } | { redirect: URL };

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

export class HttpBrowser {
  /** Cookies are per host (not per port), as in browsers. */
  private readonly cookies = new Map<string, StoredCookie[]>();

  constructor(private readonly origin: string) {}

  cookieNames(): string[] {
    return [...this.cookies.values()].flat().map((c) => c.name);
  }

  async open(url: string): Promise<Step> {
    return this.request(url, { method: 'GET' });
  }

  /** Fills the page's form (first form, or the one with `formId`) and posts it. */
  async submit(page: Page, values: Record<string, string>, formId?: string): Promise<Step> {
    const form = parseForm(page.html, formId);
    const body = new URLSearchParams({ ...form.hidden, ...values });
    return this.request(new URL(form.action, page.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }

  async request(url: string, init: RequestInit): Promise<Step> {
    let current = url;
    let req = init;
    for (let hops = 0; hops < 20; hops++) {
      const target = new URL(current);
      if (target.origin !== this.origin) return { redirect: target };
      const headers = new Headers(req.headers);
      const cookie = this.cookieHeader(target);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(current, { ...req, headers, redirect: 'manual' });
      this.store(target, res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current).toString();
        req = { method: 'GET' };
        continue;
      }
      return {
        page: { url: current, status: res.status, html: await res.text(), headers: res.headers },
      };
    }
    throw new Error('too many redirects');
  }

  private cookieHeader(url: URL): string {
    return (this.cookies.get(url.hostname) ?? [])
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    const list = this.cookies.get(url.hostname) ?? [];
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attrs.find((a) => a.toLowerCase().startsWith('path='));
      const expired =
        attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()) ||
        attrs.some((a) => /^max-age=0$/i.test(a));
      const idx = list.findIndex((c) => c.name === name);
      if (idx >= 0) list.splice(idx, 1);
      if (!expired && value !== '')
        list.push({ name, value, path: pathAttr ? pathAttr.slice(5) : '/' });
    }
    this.cookies.set(url.hostname, list);
  }
}

export function unescapeHtml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? _m,
  );
}

export function parseForm(
  html: string,
  formId?: string,
): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const form = formId ? forms.find((f) => f[1]?.includes(`id="${formId}"`)) : forms[0];
  if (!form)
    throw new Error(`no form${formId ? ` ${formId}` : ''} on page:\n${html.slice(0, 500)}`);
  const [, attributes = '', body = ''] = form;
  const action = unescapeHtml(/action="([^"]*)"/.exec(attributes)?.[1] ?? '');
  const hidden: Record<string, string> = {};
  for (const [, name = '', value = ''] of body.matchAll(
    /<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g,
  ))
    hidden[name] = unescapeHtml(value);
  return { action, hidden };
}

/** Text of the element with this id (first match). */
export function textById(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1] ?? '').trim() : undefined;
}

export function linkById(html: string, id: string): string | undefined {
  const m = new RegExp(`<a id="${id}" href="([^"]*)"`).exec(html);
  return m ? unescapeHtml(m[1] ?? '') : undefined;
}

export function expectPage(step: Step): Page {
  if (!('page' in step))
    throw new Error(`expected a page, got a redirect to ${step.redirect.toString()}`);
  return step.page;
}

export function expectRedirect(step: Step): URL {
  if (!('redirect' in step))
    throw new Error(
      `expected a redirect to the client, got page ${step.page.url} (${step.page.status}):\n${step.page.html.slice(0, 800)}`,
    );
  return step.redirect;
}
