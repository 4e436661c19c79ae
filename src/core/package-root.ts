// Where the installed package is, and what package.json says of it: the demo folders and
// `isthmus --version` are found relative to it, whether the code runs from src/ or dist/src/.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, walking up from this file (src/core/ or dist/src/core/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('packageRoot: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** `version` of the package's package.json. */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string') throw new Error(`package.json in ${packageRoot()} has no version`);
  return version;
}
