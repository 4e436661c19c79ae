// The sidecar's translation: the same resources, clusters and DestinationRules as translate(), but
// one outbound listener for the `mesh` (istio/mesh-listener.ts) instead of the edge's Ingress,
// Gateway API and Istio Gateway listeners. Pure, like translate(): the data plane compiles the IR
// it returns with the same route tables, filters and clusters as the gateway's.
import { sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import type { IrSnapshot } from '../ir/types.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { bindListeners, type BindOptions } from './binds/bind-listeners.js';
import { resolveBackendTlsPolicies } from './gateway-api/backend-tls-policies.js';
import { createIstioClusters } from './istio/destination-rules.js';
import { createServiceEntryHosts } from './istio/service-entries.js';
import { translateMesh, type MeshOptions } from './istio/mesh-listener.js';
import { createClusterSet } from './services/cluster-set.js';
import { usedClusters, type TranslateResult } from './translate.js';

export interface SidecarTranslateOptions {
  readonly mesh: MeshOptions;
  /** `--listen`: the outbound listener's address, and its logical port mapped to the real one. */
  readonly binds: BindOptions;
}

export function translateSidecar(snapshot: ResourceSnapshot, options: SidecarTranslateOptions): TranslateResult {
  const diagnostics: Diagnostic[] = [];
  const index = indexResources(snapshot.resources);
  const backendTls = resolveBackendTlsPolicies(index, diagnostics);
  const clusters = createClusterSet(index, diagnostics, backendTls);
  const istioClusters = createIstioClusters(index, clusters, diagnostics, createServiceEntryHosts(index, diagnostics));
  const listener = translateMesh(index, options.mesh, istioClusters, diagnostics);
  const bound = bindListeners([listener], options.binds);
  diagnostics.push(...bound.diagnostics);
  const ir: IrSnapshot = {
    generation: snapshot.generation,
    listeners: bound.listeners,
    binds: bound.binds,
    clusters: istioClusters.finish(clusters.build(), usedClusters([listener])),
    certificates: [],
  };
  // Statuses belong to the edge gateway that serves these objects; the sidecar writes none.
  return { ir, statuses: [], diagnostics: sortDiagnostics(diagnostics) };
}
