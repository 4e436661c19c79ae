// Kubernetes mode's ConfigSource: every kind of the registry listed and watched through
// client-node informers (one CollectionReflector per kind, or per kind and namespace), turned into
// the same ResourceSnapshot the file source builds, so the same translators run on it.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { ObjectRef } from '../../core/object-ref.js';
import { KINDS } from '../../resources/kind-registry.js';
import { parseResource, type ParseOutcome } from '../../resources/parse-resource.js';
import type { Resource } from '../../resources/resource.js';
import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import type { ConfigSource } from '../source.js';
import { CollectionReflector, type ReflectorState } from './collection-reflector.js';
import type { KubeApiClient } from './kube-api-client.js';
import { watchedCollections, type WatchedCollection } from './watched-collections.js';

export interface KubernetesSourceOptions {
  readonly client: KubeApiClient;
  /** Watch only these namespaces (namespaced kinds); all namespaces when empty. */
  readonly watchNamespaces: readonly string[];
  /** Only Secrets with these labels are read (`--secret-label-selector`). */
  readonly secretLabelSelector?: string;
  /** Quiet time gathered after the first change of a burst before rebuilding; default 100. */
  readonly debounceMs?: number;
  /** Every this often the cached objects are handed to `onResync`; 0 turns it off. */
  readonly resyncPeriodMs?: number;
  readonly log: (line: string) => void;
  /** Default: every kind of the registry. */
  readonly collections?: readonly WatchedCollection[];
}

interface ParsedObject {
  readonly resourceVersion: string;
  readonly outcome: ParseOutcome;
  /** The newest version of this object that parsed: it keeps serving while a later version does not. */
  readonly lastGood: Resource | undefined;
}

export class KubernetesSource implements ConfigSource {
  private readonly reflectors: CollectionReflector[] = [];
  private readonly byGroupKind = new Map<string, CollectionReflector[]>();
  /** Parsing is per object version: a change to one object re-parses that object only. */
  private parsed = new Map<string, ParsedObject>();
  private onSnapshot: ((snapshot: ResourceSnapshot) => void) | undefined;
  private readonly resyncListeners: (() => void)[] = [];
  private generation = 0;
  private lastFingerprint = '';
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private firstSync: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: KubernetesSourceOptions) {
    const collections = options.collections ?? watchedCollections(KINDS);
    for (const collection of collections) {
      const scopes = collection.namespaced && options.watchNamespaces.length > 0 ? options.watchNamespaces : [undefined];
      for (const namespace of scopes) {
        const reflector = new CollectionReflector({
          client: options.client,
          collection,
          ...(namespace === undefined ? {} : { namespace }),
          ...(collection.group === '' && collection.kind === 'Secret' && options.secretLabelSelector !== undefined ? { labelSelector: options.secretLabelSelector } : {}),
          onChange: () => this.schedule(),
          onState: () => this.onReflectorState(),
          log: options.log,
        });
        this.reflectors.push(reflector);
        const key = `${collection.group}/${collection.kind}`;
        this.byGroupKind.set(key, [...(this.byGroupKind.get(key) ?? []), reflector]);
      }
    }
  }

  /** Resolves after every kind has been listed once (or found forbidden or not installed). */
  async start(onSnapshot: (snapshot: ResourceSnapshot) => void): Promise<void> {
    if (this.onSnapshot) throw new Error('KubernetesSource already started');
    this.onSnapshot = onSnapshot;
    this.options.log(`isthmus: kubernetes: watching ${this.reflectors.length} collections at ${this.options.client.serverText}`);
    const synced = new Promise<void>((resolve) => (this.firstSync = resolve));
    for (const r of this.reflectors) r.start();
    await synced;
    this.deliver();
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      this.resyncTimer = setInterval(() => {
        for (const listener of this.resyncListeners) listener();
      }, period);
      this.resyncTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const r of this.reflectors) r.close();
  }

  /** Resync: called every `resyncPeriodMs` so side outputs (status) are compared with the live objects again. */
  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  /** The object as last seen by the watch, for status writes; undefined when not watched or gone. */
  liveObject(ref: ObjectRef): KubernetesObject | undefined {
    for (const r of this.byGroupKind.get(`${ref.group}/${ref.kind}`) ?? []) {
      const found = r.get(ref.namespace, ref.name);
      if (found) return found;
    }
    return undefined;
  }

  /** The served apiVersion and collection name of a kind, for writes. */
  collectionOf(ref: Pick<ObjectRef, 'group' | 'kind'>): { readonly apiVersion: string; readonly plural: string } | undefined {
    const r = this.byGroupKind.get(`${ref.group}/${ref.kind}`)?.[0];
    if (!r) return undefined;
    return { apiVersion: r.apiVersion, plural: r.collection.plural };
  }

  private onReflectorState(): void {
    if (this.firstSync && this.reflectors.every((r) => isSettled(r.state))) {
      const done = this.firstSync;
      this.firstSync = undefined;
      done();
      return;
    }
    this.schedule();
  }

  /** The first change of a burst starts the timer; later ones join it, so a steady stream cannot starve rebuilds. */
  private schedule(): void {
    if (this.closed || this.firstSync || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deliver();
    }, this.options.debounceMs ?? 100);
  }

  private deliver(): void {
    if (this.closed) return;
    const contribution: { resources: SourceContribution['resources'][number][]; diagnostics: Diagnostic[] } = { resources: [], diagnostics: [] };
    const next = new Map<string, ParsedObject>();
    const stamps: string[] = [];
    for (const r of this.reflectors) {
      stamps.push(`${r.description}=${r.state.kind}`);
      const diagnostic = stateDiagnostic(r);
      if (diagnostic) contribution.diagnostics.push(diagnostic);
      for (const obj of r.objects()) {
        const meta = obj.metadata ?? {};
        const key = `${obj.apiVersion}/${obj.kind}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
        const resourceVersion = meta.resourceVersion ?? '';
        stamps.push(`${key}@${resourceVersion}`);
        const cached = this.parsed.get(key);
        const parsed = cached && cached.resourceVersion === resourceVersion ? cached : parseVersion(obj, key, resourceVersion, cached?.lastGood);
        next.set(key, parsed);
        if (parsed.lastGood) contribution.resources.push(parsed.lastGood);
        if (parsed.outcome.kind === 'rejected') contribution.diagnostics.push(...parsed.outcome.diagnostics);
      }
    }
    this.parsed = next;
    // A relist or a resumed watch that brings nothing new must not cause a reload downstream.
    const fingerprint = stamps.join('\n');
    if (fingerprint === this.lastFingerprint) return;
    this.lastFingerprint = fingerprint;
    this.generation += 1;
    this.onSnapshot?.(buildSnapshot([contribution], this.generation));
  }
}

/**
 * In a cluster, one user's object that Isthmus cannot read must not hold back everyone else's
 * changes (the file source holds the whole change instead, since a file may be half-written): the
 * object's last good version keeps serving, or, if it never parsed, it is left out.
 */
function parseVersion(obj: KubernetesObject, key: string, resourceVersion: string, previous: Resource | undefined): ParsedObject {
  const outcome = parseResource(obj, `kubernetes:${key}`);
  if (outcome.kind === 'parsed') return { resourceVersion, outcome, lastGood: outcome.resource };
  const note = previous ? ' (its previous version keeps serving)' : ' (not served)';
  const diagnostics = outcome.diagnostics.map((d) => ({ ...d, message: d.message + note }));
  return { resourceVersion, outcome: { kind: 'rejected', diagnostics }, lastGood: previous };
}

function isSettled(state: ReflectorState): boolean {
  return state.kind === 'synced' || state.kind === 'forbidden' || state.kind === 'absent';
}

/** Forbidden and failing collections are warnings on every snapshot until they recover. */
function stateDiagnostic(r: CollectionReflector): Diagnostic | undefined {
  const s = r.state;
  switch (s.kind) {
    case 'forbidden':
      return { severity: 'warning', code: 'ERR_KUBERNETES_FORBIDDEN', source: 'kubernetes', message: `cannot list/watch ${r.description}: ${s.message}; objects of this kind are not served` };
    case 'failing':
      return { severity: 'warning', code: 'ERR_KUBERNETES_WATCH', source: 'kubernetes', message: `watch of ${r.description} is failing (${s.message}); ${s.everSynced ? 'the last objects seen keep serving' : 'nothing seen yet'}` };
    // A kind whose CRD is not installed (Istio's, in a cluster without Istio) is normal: logged once, no diagnostic.
    default:
      return undefined;
  }
}

