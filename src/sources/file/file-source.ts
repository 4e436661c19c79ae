import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { assertNever } from '../../core/assert-never.js';
import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import type { ConfigSource } from '../source.js';
import { DEFAULT_CONFIG_LIMITS, type ConfigLimits } from './config-limits.js';
import { readOpenApiFiles, withoutDocuments, type LoadedConfigFile } from './openapi-files.js';
import { ParseWorkerClient } from './parse-worker-client.js';
import { scanConfigTree, type ConfigFileRef } from './scan-config-tree.js';

export interface FileSourceOptions {
  readonly dirs: readonly string[];
  /** Quiet time gathered after the first event of a burst before reloading; default 100. */
  readonly debounceMs?: number;
  /** Per-file limits (size, expansion, depth, parse deadline, parser heap); defaults in config-limits.ts. */
  readonly limits?: Partial<ConfigLimits>;
}

interface CachedFile {
  /** inode, size, mtime and ctime: a cheap "did it change" for files no event named. */
  readonly stamp: string;
  readonly contribution: SourceContribution;
  /** Digest of the contribution, computed in the parse worker. */
  readonly fingerprint: string;
}

/**
 * Loads every config file below the folders and watches them. Any event only marks paths dirty
 * and schedules a reload: the reload rescans the tree (so creations, deletions, files replaced by
 * rename and new sub-folders are all seen the same way), re-reads the files that an event named or
 * whose stat changed, and pushes a whole snapshot with generation + 1 when anything differs.
 *
 * Each folder gets its own non-recursive fs.watch (inotify on Linux), kept in step with the tree
 * on every reload, rather than `recursive: true`, whose Linux implementation differs across Node
 * versions. Bursts are coalesced: the first event starts a `debounceMs` timer, later events join
 * it (so a steady stream of writes cannot starve reloads), and events during a reload schedule one
 * more. Reloads never overlap, so the latest state always wins.
 *
 * Files are read and parsed in a worker thread (ParseWorkerClient), so a large or hostile file
 * costs the worker's time and heap, not the event loop that serves traffic. What reaches this
 * thread is each file's typed resources and diagnostics plus a digest; "did anything change" is
 * decided from the digests, in time proportional to the number of files, not their size.
 */
export class FileSource implements ConfigSource {
  readonly #dirs: readonly string[];
  readonly #debounceMs: number;
  readonly #maxFileBytes: number;
  readonly #watchers = new Map<string, { readonly watcher: FSWatcher; readonly names: ReadonlySet<string> | null }>();
  readonly #cache = new Map<string, CachedFile>();
  readonly #parser: ParseWorkerClient;
  /** Paths an event named since the last reload started; `all` when an event named none. */
  #dirty = new Set<string>();
  #dirtyAll = false;
  #generation = 0;
  #lastFingerprint: string | undefined;
  #onSnapshot: ((snapshot: ResourceSnapshot) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #pending = false;
  #closed = false;

  constructor(options: FileSourceOptions) {
    this.#dirs = [...options.dirs];
    this.#debounceMs = options.debounceMs ?? 100;
    const limits = { ...DEFAULT_CONFIG_LIMITS, ...options.limits };
    this.#maxFileBytes = limits.maxFileBytes;
    this.#parser = new ParseWorkerClient(limits);
  }

  async start(onSnapshot: (snapshot: ResourceSnapshot) => void): Promise<void> {
    if (this.#onSnapshot) throw new Error('FileSource already started');
    this.#onSnapshot = onSnapshot;
    await this.#reloadOnce();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const { watcher } of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    // Terminating the worker first ends a reload that waits on a slow file at once.
    await this.#parser.close();
    await this.#reloading?.catch(() => undefined);
  }

  #noteChange(file: string | undefined): void {
    if (file === undefined) this.#dirtyAll = true;
    else this.#dirty.add(file);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    if (this.#reloading) {
      this.#pending = true;
      return;
    }
    this.#timer = setTimeout(() => void this.#fire(), this.#debounceMs);
  }

  async #fire(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    await this.#reloadOnce();
  }

  /** One reload at a time; changes seen meanwhile schedule the next one. */
  async #reloadOnce(): Promise<void> {
    this.#reloading = this.#reload();
    try {
      await this.#reloading;
    } finally {
      this.#reloading = undefined;
      if (this.#pending) {
        this.#pending = false;
        this.#schedule();
      }
    }
  }

  async #reload(): Promise<void> {
    const dirty = this.#dirty;
    const dirtyAll = this.#dirtyAll;
    this.#dirty = new Set();
    this.#dirtyAll = false;

    const tree = await scanConfigTree(this.#dirs);
    if (this.#closed) return;

    const loaded: (LoadedConfigFile & { readonly fingerprint: string })[] = [];
    const digests: string[] = [];
    const present = new Set<string>();
    for (const file of tree.files) {
      present.add(file.path);
      const entry = await this.#load(file, dirtyAll || dirty.has(file.path));
      if (this.#closed) return;
      if (entry) loaded.push({ file, contribution: entry.contribution, fingerprint: entry.fingerprint });
    }
    for (const cached of [...this.#cache.keys()]) if (!present.has(cached)) this.#cache.delete(cached);

    // OpenAPI documents are re-read on every reload (an edit to one is what may have caused it),
    // and their folders are watched too, for a document that sits beside a file root.
    const documents = await readOpenApiFiles(loaded, this.#dirs, this.#maxFileBytes);
    if (this.#closed) return;
    this.#syncWatchers(mergeWatch(tree.watch, documents.watch));
    for (const l of loaded) if (!documents.documentPaths.has(l.file.path)) digests.push(l.file.label, l.fingerprint);
    const contributions: SourceContribution[] = [{ resources: [], diagnostics: tree.diagnostics }, ...withoutDocuments(loaded, documents)];

    // Deliver only real changes: an editor touching a file must not cause a reload downstream.
    // Same files with the same digests in the same order build the same snapshot.
    const fingerprint = JSON.stringify([tree.diagnostics, digests, documents.fingerprint]);
    if (fingerprint === this.#lastFingerprint) return;
    const candidate = { ...buildSnapshot(contributions, this.#generation + 1), openApiFiles: documents.documents };
    this.#lastFingerprint = fingerprint;
    this.#generation = candidate.generation;
    this.#onSnapshot?.(candidate);
  }

  async #load(file: ConfigFileRef, forced: boolean): Promise<CachedFile | undefined> {
    const info = await stat(file.path).catch(() => undefined);
    if (!info) {
      this.#cache.delete(file.path);
      return undefined; // deleted since the scan; the event for it schedules another reload
    }
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    const cached = this.#cache.get(file.path);
    if (cached && !forced && cached.stamp === stamp) return cached;
    const load = await this.#parser.load(file);
    switch (load.kind) {
      case 'loaded': {
        const entry: CachedFile = { stamp, contribution: load.contribution, fingerprint: load.fingerprint };
        this.#cache.set(file.path, entry);
        return entry;
      }
      case 'vanished':
        this.#cache.delete(file.path);
        return undefined;
      case 'closed':
        return undefined;
      default:
        return assertNever(load, 'file load');
    }
  }

  #syncWatchers(wanted: ReadonlyMap<string, ReadonlySet<string> | null>): void {
    for (const [dir, entry] of this.#watchers) {
      if (!sameNames(wanted.get(dir), entry.names)) {
        entry.watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const [dir, names] of wanted) if (!this.#watchers.has(dir)) this.#watchDir(dir, names);
  }

  #watchDir(dir: string, names: ReadonlySet<string> | null): void {
    let watcher: FSWatcher;
    try {
      // persistent: false, the listeners and servers keep the process alive, not the watcher.
      watcher = watch(dir, { persistent: false }, (_event, fileName) => {
        if (fileName !== null && names !== null && !names.has(fileName)) return;
        const changed = fileName === null ? undefined : path.join(dir, fileName);
        // A sub-folder that was removed or replaced: its watcher sees the old inode; drop it so
        // the reload watches whatever is there now.
        const stale = changed === undefined ? undefined : this.#watchers.get(changed);
        if (changed !== undefined && stale) {
          stale.watcher.close();
          this.#watchers.delete(changed);
        }
        this.#noteChange(changed);
      });
    } catch {
      // Gone between the scan and now; the event that removed it has scheduled a reload.
      return;
    }
    watcher.on('error', () => {
      // Typically the folder was deleted: forget the watcher and let a reload resync.
      watcher.close();
      if (this.#watchers.get(dir)?.watcher === watcher) this.#watchers.delete(dir);
      this.#noteChange(undefined);
    });
    this.#watchers.set(dir, { watcher, names });
  }
}

/** The tree's watch set plus the documents' entries (a folder watched whole stays whole). */
function mergeWatch(tree: ReadonlyMap<string, ReadonlySet<string> | null>, documents: ReadonlyMap<string, ReadonlySet<string>>): Map<string, ReadonlySet<string> | null> {
  const merged = new Map(tree);
  for (const [dir, names] of documents) {
    const current = merged.get(dir);
    if (current === null) continue;
    merged.set(dir, new Set([...(current ?? []), ...names]));
  }
  return merged;
}

function sameNames(a: ReadonlySet<string> | null | undefined, b: ReadonlySet<string> | null): boolean {
  if (a === undefined) return false;
  if (a === null || b === null) return a === b;
  return a.size === b.size && [...a].every((name) => b.has(name));
}
