// Creating a folder and its missing parents, one level at a time from the nearest one that exists.
// Not `mkdir(dir, { recursive: true })`: on Node 20 both its sync and promise forms loop forever
// under a pseudo-filesystem such as /proc (mkdir answers ENOENT for a parent that exists), which
// froze `isthmus run --access-log /proc/x/log` at start-up; here the first refused level throws.
import fs from 'node:fs';
import path from 'node:path';

/** The missing folders on the way to `dir`, outermost first. */
function missingLevels(dir: string): string[] {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.existsSync(at); at = path.dirname(at)) {
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  return missing.reverse();
}

export function makeFoldersSync(dir: string): void {
  for (const level of missingLevels(dir)) fs.mkdirSync(level);
}

/** The same, for code that must not block: only the existence checks are synchronous (a few stat calls). */
export async function makeFolders(dir: string): Promise<void> {
  for (const level of missingLevels(dir)) await fs.promises.mkdir(level);
}
