// Kubernetes mode end to end: the real `isthmus run --kubernetes` process against FakeKubeApi, an
// in-process server that speaks the API server's list/watch/status protocol (no real API server
// runs on these machines). Objects are written to the fake as another client would write them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { KINDS } from '../../src/resources/kind-registry.js';
import { watchedCollections } from '../../src/sources/kubernetes/watched-collections.js';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.js';
import { startGateway, type Cleanup, type RunningGateway, type StartOptions } from './cli-harness.js';

export interface FakeCluster {
  readonly api: FakeKubeApi;
  readonly kubeconfig: string;
  /** Applies YAML documents to the fake as a client would (`kubectl apply`). */
  apply(text: string): void;
}

/**
 * A fake cluster serving every kind of the registry at its preferred version, except the kinds in
 * `leaveOut` (as a cluster without those CRDs), plus Leases for leader election.
 */
export async function startFakeCluster(t: Cleanup, options: { readonly leaveOut?: readonly string[] } = {}): Promise<FakeCluster> {
  const api = new FakeKubeApi({ bookmarkIntervalMs: 200 });
  for (const c of watchedCollections(KINDS)) {
    if (options.leaveOut?.includes(c.kind)) continue;
    api.defineKind({ apiVersion: c.apiVersions[0]!, kind: c.kind, plural: c.plural, namespaced: c.namespaced });
  }
  api.defineKind({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true });
  await api.start();
  t.after(() => api.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-kube-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = api.writeKubeconfig(dir);
  return {
    api,
    kubeconfig,
    apply(text) {
      for (const doc of yaml.loadAll(text)) {
        if (!doc) continue;
        const obj = doc as KubeObject & { status?: unknown };
        // kubectl apply leaves the status subresource alone: keep what the controller wrote.
        const existing = api.get(String(obj.apiVersion), String(obj.kind), obj.metadata.namespace ?? (obj.kind === 'IngressClass' ? undefined : 'default'), obj.metadata.name!) as { status?: unknown } | undefined;
        api.put(obj.status === undefined && existing?.status !== undefined ? { ...obj, status: existing.status } : obj);
      }
    },
  };
}

/** `isthmus run --kubernetes` against the fake; ready means the first full sync is applied. */
export async function startKubeGateway(t: Cleanup, cluster: FakeCluster, args: readonly string[] = [], options: Omit<StartOptions, 'extraArgs'> = {}): Promise<RunningGateway> {
  return await startGateway(t, { ...options, extraArgs: ['--kubernetes', '--kubeconfig', cluster.kubeconfig, '--lease-duration', '1000', ...args] });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
