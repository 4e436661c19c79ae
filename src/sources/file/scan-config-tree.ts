import type { Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../../core/diagnostic.js';
import { configFormatOf, type ConfigFormat } from './config-format.js';

export interface ConfigFileRef {
  /** Absolute path, for reading. */
  readonly path: string;
  /** The folder as given plus the path inside it, for diagnostics: `examples/quickstart/web.yaml`. */
  readonly label: string;
  readonly format: ConfigFormat;
}

export interface ConfigTree {
  /** Sorted by label, each file once. */
  readonly files: readonly ConfigFileRef[];
  /**
   * Folders to watch, each with the entry names that matter there (null: every entry). A root that
   * is a file is watched through its folder, so replacing it by rename is seen too.
   */
  readonly watch: ReadonlyMap<string, ReadonlySet<string> | null>;
  readonly diagnostics: readonly Diagnostic[];
}

function readError(label: string, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err);
  return { severity: 'error', code: 'ERR_CONFIG_READ', source: label, message: `cannot read: ${message}` };
}

// Entries starting with "." are skipped: editor swap files, and the `..data` / `..2024_...`
// folders of a mounted ConfigMap (its visible files are symlinks into them, and are read).
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** Lists every *.yaml, *.yml and *.json below the roots (recursively, following symlinks). */
export async function scanConfigTree(roots: readonly string[]): Promise<ConfigTree> {
  const files = new Map<string, ConfigFileRef>();
  const watch = new Map<string, Set<string> | null>();
  const diagnostics: Diagnostic[] = [];
  const visited = new Set<string>();

  const walk = async (dir: string, label: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (err) {
      diagnostics.push(readError(label, err));
      return;
    }
    if (visited.has(real)) return; // a symlink loop, or two roots that overlap
    visited.add(real);
    watch.set(dir, null);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      diagnostics.push(readError(label, err));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isHidden(entry.name)) continue;
      const full = path.join(dir, entry.name);
      const entryLabel = path.join(label, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        if (!target) continue; // dangling link
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) await walk(full, entryLabel);
      else if (isFile) addFile(full, entryLabel);
    }
  };

  const addFile = (file: string, label: string): void => {
    const format = configFormatOf(file);
    if (format && !files.has(file)) files.set(file, { path: file, label, format });
  };

  for (const root of roots) {
    const absolute = path.resolve(root);
    let info: Stats;
    try {
      info = await stat(absolute);
    } catch (err) {
      diagnostics.push(readError(root, err));
      continue;
    }
    if (info.isDirectory()) {
      await walk(absolute, root);
    } else {
      const parent = path.dirname(absolute);
      const names = watch.get(parent);
      if (names !== null) watch.set(parent, new Set([...(names ?? []), path.basename(absolute)]));
      files.set(absolute, { path: absolute, label: root, format: configFormatOf(absolute) ?? 'yaml' });
    }
  }
  const sorted = [...files.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return { files: sorted, watch, diagnostics };
}
