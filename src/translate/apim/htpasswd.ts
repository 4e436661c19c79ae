// htpasswd text (Apache's format, one `user:hash` per line) → the bcrypt users it holds. Only
// bcrypt is accepted (`$2a$`, `$2b$`, `$2y$`): MD5-crypt (`$apr1$`), `{SHA}` and DES crypt are
// fast hashes an attacker who reads the Secret can brute-force, and Isthmus checks none of them.
// Blank lines and `#` comments are skipped. Pure.

/** `$2y$10$` + 53 characters of bcrypt's base64 (22 of salt, 31 of hash). */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

export interface HtpasswdUser {
  readonly user: string;
  readonly bcrypt: string;
}

export interface HtpasswdProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5-crypt ($apr1$)';
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA})';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  return 'crypt or plain text';
}

export function parseHtpasswd(text: string): { readonly users: HtpasswdUser[]; readonly problems: HtpasswdProblem[] } {
  const users: HtpasswdUser[] = [];
  const problems: HtpasswdProblem[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push({ line: i + 1, message: 'expected "user:hash"' });
      return;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      problems.push({ line: i + 1, message: `user "${user}": expected a bcrypt hash ($2y$, $2a$ or $2b$; htpasswd -B), found ${hashKind(hash)}` });
      return;
    }
    if (seen.has(user)) {
      problems.push({ line: i + 1, message: `user "${user}" is listed again; the first line counts` });
      return;
    }
    seen.add(user);
    users.push({ user, bcrypt: hash });
  });
  return { users, problems };
}
