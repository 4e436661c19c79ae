import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { FileSource } from '../file/file-source.js';
import type { ConfigSource } from '../source.js';

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
