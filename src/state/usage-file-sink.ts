// Usage counts in a local JSON state file, for a single gateway or until Redis is configured. The
// file is rewritten whole at each flush: written to a temporary file in the same directory, synced,
// then renamed over the old one (rename is atomic within a file system), so a crash mid-write
// leaves the previous file intact, never half a JSON document.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { UsageEntry, UsageSink } from './usage-meter.js';

/** The file: `{ "<hour>": { "<consumer>": { "<api>": { "2xx": n, ... } } } }`. */
export type UsageFile = Record<string, Record<string, Record<string, Record<string, number>>>>;

export class FileUsageSink implements UsageSink {
  constructor(private readonly path: string) {}

  async add(entries: readonly UsageEntry[]): Promise<void> {
    const data = await this.read();
    for (const e of entries) {
      const byClass = (((data[e.hour] ??= {})[e.consumer] ??= {})[e.api] ??= {});
      byClass[e.statusClass] = (byClass[e.statusClass] ?? 0) + e.count;
    }
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

  /** The file as it stands; a missing file is no usage yet. */
  async read(): Promise<UsageFile> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as UsageFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  async close(): Promise<void> {}
}
