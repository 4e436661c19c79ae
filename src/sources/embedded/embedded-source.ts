import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSource } from '../file/file-source.js';
import type { ConfigSource } from '../source.js';

/**
 * Absolute path of examples/quickstart inside the installed package. This file runs from
 * src/sources/embedded/ (ts sources) or dist/src/sources/embedded/ (compiled), so walk up to the
 * folder that holds package.json instead of counting `..`.
 */
export function embeddedDemoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'examples', 'quickstart');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('embeddedDemoDir: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The demo as a source: the quickstart files, watched like any config folder. */
export function createEmbeddedSource(options: { readonly debounceMs?: number } = {}): ConfigSource {
  return new FileSource({ dirs: [embeddedDemoDir()], ...options });
}
