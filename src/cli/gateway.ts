// The composition root of `isthmus run`: the only place that wires source → translate → data plane,
// and the admin API, metrics and access log around them.
import { replaceMarked, withApplyFailures } from '../translate/apply-feedback.js';
import type { RunOptions } from './args.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { createExplainView } from './explain-view.js';
import type { IrSnapshot } from '../ir/types.js';
import type { ConfigSource } from '../sources/source.js';
import { FileSource } from '../sources/file/file-source.js';
import { translate, type TranslateResult } from '../translate/translate.js';
import { DataPlane } from '../dataplane/data-plane.js';
import { createUpstreamTransport } from './upstream-transport.js';
import { AdminServer } from '../admin/admin-server.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createAccessLog, type AccessLog } from '../observability/access-log.js';
import { channels, type ConfigApplyMessage } from '../core/channels.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../core/diagnostic.js';
import type { ObjectStatus } from '../core/object-status.js';
import { configView } from './config-view.js';
import { createFilterState, hasGlobalCounters, type FilterState } from './filter-state.js';
import { createUsageState, type UsageState } from './usage-state.js';
import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type Random } from '../core/random.js';
import { describeAdminListenFailure, describeFirstBindFailure, describeHealthListenFailure, runBindFlags, type BindFlags } from './startup-errors.js';
import { describeUnservedPods, findUnservedPodServices } from './unserved-pods.js';
import { embeddedDemoDirs } from '../sources/embedded/embedded-source.js';
import type { TrafficWorkers } from './workers/traffic-workers.js';
import type { UsageEntry } from '../state/usage-meter.js';

/** A problem that stops `run` before it serves: printed as one line, exit 1. */
export class StartupError extends Error {}

export interface GatewayDeps {
  readonly clock?: Clock;
  readonly random?: Random;
  /** Operational log lines (not access logs); default stderr. */
  readonly log?: (line: string) => void;
  readonly source?: ConfigSource;
  /**
   * Resources → IR; default translate() with the run flags. `isthmus sidecar` passes its mesh
   * translation (translate-sidecar.ts) and keeps everything else: reloads, admin, metrics, logs.
   */
  readonly translate?: (snapshot: ResourceSnapshot) => TranslateResult;
  /**
   * Whether a snapshot whose source reported errors (a file that does not parse) is held back whole;
   * default true. Kubernetes mode passes false: its source already keeps each broken object's last
   * good version, so one user's object cannot hold back everyone else's changes.
   */
  readonly holdBackOnSourceErrors?: boolean;
  /** Called with the statuses after every apply (and every refusal): Kubernetes mode writes them back. */
  readonly onStatuses?: (statuses: readonly ObjectStatus[]) => void;
  /** The flags start-up errors name for a port in use; default `isthmus run`'s. */
  readonly bindFlags?: BindFlags;
  /**
   * `--workers N`: worker processes serve the traffic, each with its own data plane; this gateway
   * (the primary) loads, translates and applies to them, and its own data plane binds nothing.
   */
  readonly workers?: TrafficWorkers;
}

export class Gateway {
  readonly dataPlane: DataPlane;
  private readonly source: ConfigSource;
  /** Resources from folders (no `source` given): Pods are declarations that may have nothing running. */
  private readonly fileMode: boolean;
  private readonly metrics: Metrics;
  private readonly filterState: FilterState;
  private warnedLocalCounters = false;
  private readonly usage: UsageState;
  private readonly accessLog: AccessLog;
  private readonly admin: AdminServer;
  /** `--health-port`: probes and metrics on the traffic address; the admin API stays on loopback. */
  private readonly health: AdminServer | undefined;
  private readonly log: (line: string) => void;
  private readonly clock: Clock;
  private readonly translate: (snapshot: ResourceSnapshot) => TranslateResult;
  private applied: TranslateResult | undefined;
  /** The snapshot `applied` was translated from (explain reads its Services and EndpointSlices). */
  private appliedSnapshot: ResourceSnapshot | undefined;
  private lastDiagnostics: readonly Diagnostic[] = [];
  private lastStatuses: readonly ObjectStatus[] = [];
  private ready = false;
  private pending: ResourceSnapshot | undefined;
  private applying: Promise<void> | undefined;
  private adminBound = 0;
  private readonly holdBackOnSourceErrors: boolean;
  private readonly onStatuses: ((statuses: readonly ObjectStatus[]) => void) | undefined;
  private readonly bindFlags: BindFlags;
  private readonly workers: TrafficWorkers | undefined;
  /** Why the first configuration could not be applied, in words for the start-up error. */
  private firstLoadFailure: string | undefined;

  constructor(private readonly options: RunOptions, deps: GatewayDeps = {}) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? ((line) => process.stderr.write(line + '\n'));
    this.source = deps.source ?? new FileSource({ dirs: options.configDirs });
    this.fileMode = deps.source === undefined;
    this.translate = deps.translate ?? ((snapshot) => this.translateEdge(snapshot));
    this.holdBackOnSourceErrors = deps.holdBackOnSourceErrors ?? true;
    this.onStatuses = deps.onStatuses;
    this.bindFlags = deps.bindFlags ?? runBindFlags(options);
    this.workers = deps.workers;
    const workers = deps.workers;
    // With workers, ready means every live worker serves the applied generation (a restarted one catches up first).
    const isReady = (): boolean => this.ready && (workers?.isCurrent() ?? true);
    const readyDetail = workers === undefined ? {} : { readyDetail: () => workers.readiness() };
    const aggregatedMetrics = workers === undefined ? {} : { aggregatedMetrics: () => workers.metrics(this.metrics.registry) };
    this.metrics = createMetrics();
    this.filterState = createFilterState({
      clock: this.clock,
      random: deps.random ?? systemRandom,
      redisUrl: options.redisUrl,
      redisTimeoutMs: options.redisTimeoutMs,
      registry: this.metrics.registry,
      log: this.log,
    });
    this.usage = createUsageState({ clock: this.clock, redisUrl: options.redisUrl, stateDir: options.stateDir, log: this.log });
    this.dataPlane = new DataPlane({
      trustedProxies: options.trustedProxies,
      // --upstream-client (default raw): raw serves http1/https itself and hands h2/h2c to undici.
      transport: createUpstreamTransport(options.upstreamClient),
      clock: this.clock,
      random: deps.random ?? systemRandom,
      limits: options.limits,
      filters: this.filterState.deps,
    });
    this.accessLog = createAccessLog(options.accessLog);
    this.admin = new AdminServer(
      {
        isReady,
        ...readyDetail,
        config: () => (this.applied ? configView(this.applied.ir) : null),
        diagnostics: () => this.lastDiagnostics,
        statuses: () => this.lastStatuses,
        upstreams: () => (workers === undefined ? this.dataPlane.upstreams() : workers.upstreams()),
        usage: async (range) => {
          await workers?.flushUsage();
          return await this.usage.report(range);
        },
        explain: createExplainView(() => (this.applied && this.appliedSnapshot ? { ir: this.applied.ir, snapshot: this.appliedSnapshot } : undefined), options.services?.nodeName),
      },
      { port: options.adminPort, metrics: this.metrics, ...aggregatedMetrics },
    );
    if (options.healthPort > 0) {
      this.health = new AdminServer(
        { isReady, ...readyDetail, config: () => null, diagnostics: () => [], statuses: () => [], upstreams: () => null },
        { port: options.healthPort, host: options.listenAddress, metrics: this.metrics, ...aggregatedMetrics, only: ['/healthz', '/ready', '/metrics'] },
      );
    }
  }

  /** The statuses of the configuration serving now. */
  get statuses(): readonly ObjectStatus[] {
    return this.lastStatuses;
  }

  get adminPort(): number {
    return this.adminBound;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The sockets serving traffic: this process's, or with `--workers` the ones a worker reports. */
  boundPorts(): readonly { bind: string; protocol: 'http' | 'https'; port: number }[] {
    return this.workers?.boundPorts() ?? this.dataPlane.boundPorts();
  }

  /** `--workers`: usage counts a worker flushed, written by this process (the one writer of the state file). */
  mergeUsage(entries: readonly UsageEntry[]): void {
    this.usage.merge(entries);
  }

  async start(): Promise<void> {
    try {
      this.adminBound = await this.admin.listen();
    } catch (err) {
      throw new StartupError(describeAdminListenFailure(this.options.adminPort, err, this.bindFlags));
    }
    try {
      await this.health?.listen();
    } catch (err) {
      throw new StartupError(describeHealthListenFailure(this.options.healthPort, this.options.listenAddress, err));
    }
    await this.source.start((snapshot) => this.enqueue(snapshot));
    await this.applying;
    if (!this.ready) {
      if (this.firstLoadFailure !== undefined) throw new StartupError(this.firstLoadFailure);
      const errors = this.lastDiagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      throw new StartupError(`the first configuration could not be applied; no configuration is serving:\n  ${errors.join('\n  ')}`);
    }
    if (this.fileMode && this.applied !== undefined) void this.adviseUnservedPods(this.applied.ir);
  }

  /** File mode: one warning line when routed Pods have nothing listening (their requests would all be 502). */
  private async adviseUnservedPods(ir: IrSnapshot): Promise<void> {
    try {
      const unserved = await findUnservedPodServices(ir);
      if (unserved.length > 0) this.log(describeUnservedPods(unserved, this.options, embeddedDemoDirs()));
    } catch {
      // Advice only: the gateway is serving either way.
    }
  }

  /** SIGTERM: drain in-flight requests, then close everything. Returns requests cut at the deadline. */
  async stop(graceMs = this.options.shutdownGraceMs): Promise<number> {
    this.ready = false;
    await this.source.close();
    const cut = this.workers === undefined ? await this.dataPlane.drain(graceMs) : await this.workers.drain(graceMs);
    await this.admin.close();
    await this.health?.close();
    // After the drain: every request that finished is counted before the last flush.
    await this.usage.close();
    await this.filterState.close();
    this.metrics.close();
    await this.accessLog.close();
    return cut;
  }

  /** The latest snapshot always wins: snapshots that arrive during an apply replace each other. */
  private enqueue(snapshot: ResourceSnapshot): void {
    this.pending = snapshot;
    this.applying ??= this.applyPending().finally(() => (this.applying = undefined));
  }

  private async applyPending(): Promise<void> {
    while (this.pending !== undefined) {
      const snapshot = this.pending;
      this.pending = undefined;
      await this.applySnapshot(snapshot);
    }
  }

  private async applySnapshot(snapshot: ResourceSnapshot): Promise<void> {
    const started = performance.now();
    // A file that does not parse (or an object that breaks its schema) may be half-written: serving
    // without it could silently drop live routes, so the whole change waits for a fix. Only the very
    // first load applies what did parse, so a gateway can come up at all.
    if (this.holdBackOnSourceErrors && hasErrors(snapshot.diagnostics) && this.applied !== undefined) {
      this.reject(snapshot.generation, snapshot.diagnostics, started, 'the files have errors');
      return;
    }
    const result = this.translate(snapshot);
    // An OpenAPI document that cannot be used is a file that does not parse, one level down (it sits
    // in a ConfigMap): applied, it would take the API version's routes and validation with it, so
    // the change waits for a fix, as above.
    if (this.holdBackOnSourceErrors && this.applied !== undefined && result.diagnostics.some(isHeldBack)) {
      this.reject(snapshot.generation, [...snapshot.diagnostics, ...result.diagnostics], started, 'an OpenAPI document cannot be used');
      return;
    }
    const outcome = await (this.workers?.apply(result.ir) ?? this.dataPlane.apply(result.ir));
    const diagnostics = [...snapshot.diagnostics, ...result.diagnostics, ...outcome.diagnostics];
    if (outcome.outcome === 'rejected') {
      // The last good configuration serves on; the objects whose part failed say so in their status.
      if (this.applied === undefined && outcome.failedBind !== undefined) {
        this.firstLoadFailure = describeFirstBindFailure(outcome.failedBind, result.ir, this.bindFlags);
      }
      this.lastStatuses = replaceMarked(this.lastStatuses, result.statuses, outcome.diagnostics);
      this.onStatuses?.(this.lastStatuses);
      this.reject(snapshot.generation, diagnostics, started, 'the data plane refused it');
      return;
    }
    this.applied = result;
    this.appliedSnapshot = snapshot;
    this.lastDiagnostics = diagnostics;
    this.lastStatuses = withApplyFailures(result.statuses, outcome.diagnostics);
    this.onStatuses?.(this.lastStatuses);
    if (this.options.redisUrl === undefined && !this.warnedLocalCounters && hasGlobalCounters(result.ir)) {
      this.warnedLocalCounters = true;
      this.log('isthmus: warning: rate limits or quotas with scope global count per replica: no --redis-url (or ISTHMUS_REDIS_URL) is set');
    }
    this.ready = true;
    const durationMs = performance.now() - started;
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const routes = result.ir.listeners.reduce((n, l) => n + l.virtualHosts.reduce((m, v) => m + v.routes.length, 0), 0);
    for (const d of diagnostics) this.log(`isthmus: ${formatDiagnostic(d)}`);
    this.log(
      `isthmus: config generation ${snapshot.generation} applied in ${durationMs.toFixed(1)} ms: ${result.ir.listeners.length} listeners, ` +
        `${routes} routes, ${result.ir.clusters.length} clusters, ${errors} errors, ${diagnostics.length - errors} warnings`,
    );
    this.publishApply(snapshot.generation, 'applied', durationMs, diagnostics);
  }

  private translateEdge(snapshot: ResourceSnapshot): TranslateResult {
    return translate(snapshot, {
      ingressClass: this.options.ingressClass,
      ingressController: this.options.ingressController,
      istioGatewayLabels: this.options.istioGatewayLabels,
      ...(this.options.services !== undefined ? { services: this.options.services } : {}),
      statusAddress: this.options.listenAddress === '0.0.0.0' ? '127.0.0.1' : this.options.listenAddress,
      binds: { listenAddress: this.options.listenAddress, portMap: this.options.portMap },
    });
  }

  private reject(generation: number, diagnostics: readonly Diagnostic[], started: number, why: string): void {
    // Only a gateway that applied something has a last good configuration; at start-up there is none.
    const serving = this.applied === undefined ? 'no configuration is serving yet' : 'the last good configuration keeps serving';
    const all: Diagnostic[] = [
      ...diagnostics,
      { severity: 'error', code: 'ERR_CONFIG_REJECTED', message: `configuration generation ${generation} rejected (${why}); ${serving}` },
    ];
    this.lastDiagnostics = all;
    for (const d of all) this.log(`isthmus: ${formatDiagnostic(d)}`);
    this.publishApply(generation, 'rejected', performance.now() - started, all);
  }

  private publishApply(generation: number, outcome: 'applied' | 'rejected', durationMs: number, diagnostics: readonly Diagnostic[]): void {
    if (!channels.configApply.hasSubscribers) return;
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const msg: ConfigApplyMessage = { generation, outcome, durationMs, errors, warnings: diagnostics.length - errors };
    channels.configApply.publish(msg);
  }
}

/** Translation errors that hold a change back like a file that does not parse (see applySnapshot). */
function isHeldBack(d: Diagnostic): boolean {
  return d.severity === 'error' && d.code === 'ERR_OPENAPI_INVALID';
}
