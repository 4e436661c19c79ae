import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSource } from '../file/file-source.js';
import type { ConfigSource } from '../source.js';

/**
 * The folder holding package.json. This file runs from src/sources/embedded/ (ts sources) or
 * dist/src/sources/embedded/ (compiled), so walk up instead of counting `..`.
 */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('embeddedDemoDir: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Absolute path of examples/quickstart (Ingress) inside the installed package. */
export function embeddedDemoDir(): string {
  return path.join(packageRoot(), 'examples', 'quickstart');
}

/** Every folder `--demo` serves: examples/quickstart (Ingress), examples/gateway-api and examples/istio. */
export function embeddedDemoDirs(): string[] {
  const root = packageRoot();
  return [embeddedDemoDir(), path.join(root, 'examples', 'gateway-api'), path.join(root, 'examples', 'istio')];
}

/** The demo as a source: the files of both example folders, watched like any config folder. */
export function createEmbeddedSource(options: { readonly debounceMs?: number } = {}): ConfigSource {
  return new FileSource({ dirs: embeddedDemoDirs(), ...options });
}
