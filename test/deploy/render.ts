// Renders deploy/ with the real `kubectl kustomize` and parses the result: the shared part of the
// manifest tests. kubectl is required: a missing one fails the test with what to install, it is
// never a silent skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

/** The folder holding package.json and deploy/: this file runs from test/deploy/ or dist/test/deploy/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'deploy'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no package.json with deploy/ above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** A Kubernetes object as rendered: untyped JSON, narrowed by the checks that read it. */
export type K8sObject = Record<string, unknown> & { readonly apiVersion: string; readonly kind: string };

/**
 * The kubectl binaries to render with: `ISTHMUS_TEST_KUBECTL` (colon-separated paths, e.g. the
 * PATH's kubectl 1.32 and Debian's kubectl 1.20 unpacked somewhere) or else `kubectl` on PATH.
 * With more than one, the tests also check that all of them render the same objects.
 */
export function kubectlBinaries(): string[] {
  const fromEnv = process.env.ISTHMUS_TEST_KUBECTL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(':').filter((p) => p !== '');
  return ['kubectl'];
}

const INSTALL_HINT =
  'kubectl is required by test/deploy (it renders deploy/ with `kubectl kustomize`): ' +
  "install Debian's kubernetes-client (`apt-get install kubernetes-client`, kubectl 1.20 with kustomize v2.0.3) " +
  'or any newer kubectl, or point ISTHMUS_TEST_KUBECTL at one';

/** `kubectl version --client` in one line, for messages. */
export function kubectlVersion(kubectl: string): string {
  const result = spawnSync(kubectl, ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw new Error(`${INSTALL_HINT}\n(${kubectl}: ${result.error.message})`);
  return result.stdout.replace(/\s+/g, ' ').trim();
}

/** `kubectl kustomize <dir>` → the parsed objects, in output order. Fails loudly on any error. */
export function render(kubectl: string, kustomizationDir: string): K8sObject[] {
  const result = spawnSync(kubectl, ['kustomize', kustomizationDir], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new Error(`${INSTALL_HINT}\n(${kubectl}: ${result.error.message})`);
  if (result.status !== 0) throw new Error(`${kubectl} kustomize ${kustomizationDir} exited ${result.status}:\n${result.stderr}`);
  const objects: K8sObject[] = [];
  for (const doc of loadAll(result.stdout)) {
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${kustomizationDir}: a rendered document is not a mapping: ${JSON.stringify(doc)}`);
    const object = doc as Record<string, unknown>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      throw new Error(`${kustomizationDir}: a rendered object has no apiVersion/kind: ${JSON.stringify(object).slice(0, 200)}`);
    }
    objects.push(object as K8sObject);
  }
  return objects;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `a.b.c` of an object, or undefined where any step is missing (array steps by index). */
export function at(value: unknown, ...steps: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[step];
    }
  }
  return current;
}

export function metadataOf(object: K8sObject): { name: string; namespace: string | undefined; labels: Record<string, string>; annotations: Record<string, string> } {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  return {
    name: typeof meta.name === 'string' ? meta.name : '',
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
    labels: (isRecord(meta.labels) ? meta.labels : {}) as Record<string, string>,
    annotations: (isRecord(meta.annotations) ? meta.annotations : {}) as Record<string, string>,
  };
}

/** `Deployment isthmus-system/isthmus`, for messages. */
export function describe(object: K8sObject): string {
  const meta = metadataOf(object);
  return `${object.kind} ${meta.namespace === undefined ? '' : meta.namespace + '/'}${meta.name}`;
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && metadataOf(o).name === name);
}

export function findAll(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}
