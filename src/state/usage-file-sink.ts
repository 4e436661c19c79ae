// Usage counts in a local JSON state file, for a single gateway or until Redis is configured. The
// file is rewritten whole at each flush: written to a temporary file in the same directory, synced,
// then renamed over the old one (rename is atomic within a file system), so a crash mid-write
// leaves the previous file intact, never half a JSON document. One gateway per file: two processes
// flushing into the same file would each rewrite it from what they read, and lose the other's counts.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { makeFolders } from '../core/make-folders.js';
import { isInRange, parseUsageCell, usageCellKey, type UsageEntry, type UsageRange, type UsageSink } from './usage-meter.js';

/** The file: `{ "<hour>": { "<consumer>|<api>|<version>|<plan>|<class>": n, ... } }` (as the Redis hashes). */
export type UsageFile = Record<string, Record<string, number>>;

export class FileUsageSink implements UsageSink {
  constructor(readonly path: string) {}

  async add(entries: readonly UsageEntry[]): Promise<void> {
    const data = await this.readFile();
    for (const e of entries) {
      const cells = (data[e.hour] ??= {});
      const cell = usageCellKey(e, e.statusClass);
      cells[cell] = (cells[cell] ?? 0) + e.count;
    }
    await makeFolders(path.dirname(this.path));
    const tmp = `${this.path}.${process.pid}.tmp`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  async read(range: UsageRange): Promise<UsageEntry[]> {
    const data = await this.readFile();
    const out: UsageEntry[] = [];
    for (const [hour, cells] of Object.entries(data)) {
      if (!isInRange(hour, range) || typeof cells !== 'object' || cells === null) continue;
      for (const [cell, count] of Object.entries(cells)) {
        const entry = parseUsageCell(hour, cell, count);
        if (entry !== undefined) out.push(entry);
      }
    }
    return out;
  }

  /** The file as it stands; a missing file is no usage yet. */
  async readFile(): Promise<UsageFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${this.path}: expected a JSON object of hours`);
    return data as UsageFile;
  }

  async close(): Promise<void> {}
}

/** Counts kept in this process only: when no state file can be written (a read-only file system). */
export class MemoryUsageSink implements UsageSink {
  readonly #data: UsageFile = {};

  async add(entries: readonly UsageEntry[]): Promise<void> {
    for (const e of entries) {
      const cells = (this.#data[e.hour] ??= {});
      const cell = usageCellKey(e, e.statusClass);
      cells[cell] = (cells[cell] ?? 0) + e.count;
    }
  }

  async read(range: UsageRange): Promise<UsageEntry[]> {
    const out: UsageEntry[] = [];
    for (const [hour, cells] of Object.entries(this.#data)) {
      if (!isInRange(hour, range)) continue;
      for (const [cell, count] of Object.entries(cells)) {
        const entry = parseUsageCell(hour, cell, count);
        if (entry !== undefined) out.push(entry);
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}
