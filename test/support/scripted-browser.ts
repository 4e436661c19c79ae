// A scripted browser for login flows: node's HTTP client plus what a browser adds to it, a cookie
// jar (RFC 6265: per host, with path matching, Max-Age=0 deletes), redirects followed by hand so
// a test can stop before any hop, and HTML forms read and submitted. Every request goes to
// 127.0.0.1 on the URL's port with the URL's host as Host, so `*.localhost` names need no resolver.
import http from 'node:http';

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface StoredCookie {
  readonly value: string;
  readonly path: string;
}

export class ScriptedBrowser {
  /** host → `name\npath` → cookie */
  readonly #jar = new Map<string, Map<string, StoredCookie & { name: string }>>();

  /** The value of a cookie the jar holds for `host` (any path). */
  cookie(host: string, name: string): string | undefined {
    for (const c of this.#jar.get(host)?.values() ?? []) if (c.name === name) return c.value;
    return undefined;
  }

  setCookie(host: string, name: string, value: string, path = '/'): void {
    let cookies = this.#jar.get(host);
    if (cookies === undefined) this.#jar.set(host, (cookies = new Map()));
    cookies.set(`${name}\n${path}`, { name, value, path });
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async fetch(url: string, options: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const body = options.form === undefined ? undefined : new URLSearchParams(options.form).toString();
    const cookie = this.#cookieHeader(target);
    const headers: Record<string, string> = {
      host: target.host,
      accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
      ...(cookie === '' ? {} : { cookie }),
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }),
      ...options.headers,
    };
    const page = await new Promise<Page>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: Number(target.port || 80), path: `${target.pathname}${target.search}`, method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    for (const line of page.headers['set-cookie'] ?? []) this.#store(target, line);
    return page;
  }

  /** Follows redirects (GET after each) until an answer that is not one, or until `stopBefore` says so. */
  async navigate(url: string, options: { method?: string; headers?: Record<string, string>; form?: Record<string, string>; stopBefore?: (next: URL) => boolean; maxHops?: number } = {}): Promise<Page> {
    let page = await this.fetch(url, options);
    for (let hop = 0; hop < (options.maxHops ?? 20); hop++) {
      const location = page.headers.location;
      if (page.status < 300 || page.status > 399 || location === undefined) return page;
      const next = new URL(location, page.url);
      if (options.stopBefore?.(next) === true) return page;
      page = await this.fetch(next.href, { ...(options.headers === undefined ? {} : { headers: options.headers }) });
    }
    throw new Error(`more than ${options.maxHops ?? 20} redirects from ${url}`);
  }

  #cookieHeader(url: URL): string {
    const out: string[] = [];
    for (const c of this.#jar.get(url.hostname)?.values() ?? []) {
      if (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) out.push(`${c.name}=${c.value}`);
    }
    return out.join('; ');
  }

  #store(url: URL, line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = url.pathname.slice(0, Math.max(1, url.pathname.lastIndexOf('/')));
    let expired = false;
    for (const a of attributes) {
      const [k = '', v = ''] = a.split('=').map((s) => s.trim());
      if (k.toLowerCase() === 'path' && v.startsWith('/')) path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    let cookies = this.#jar.get(url.hostname);
    if (cookies === undefined) this.#jar.set(url.hostname, (cookies = new Map()));
    if (expired) cookies.delete(`${name}\n${path}`);
    else cookies.set(`${name}\n${path}`, { name, value, path });
  }
}

/** The first `<form>` of a page whose fields include `must` (if given): its action, resolved, and its named inputs. */
export function formOf(page: Page, must?: string): { action: string; fields: Record<string, string> } {
  for (const match of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = /action="([^"]*)"/i.exec(match[1]!)?.[1];
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
      if (name !== undefined) fields[name] = unescapeHtml(/value="([^"]*)"/i.exec(input[1]!)?.[1] ?? '');
    }
    if (must !== undefined && !(must in fields)) continue;
    return { action: new URL(unescapeHtml(action ?? ''), page.url).href, fields };
  }
  throw new Error(`no form${must === undefined ? '' : ` with ${must}`} on ${page.url} (${page.status}):\n${page.body.slice(0, 2000)}`);
}

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;/g, '/').replace(/&amp;/g, '&');
}
