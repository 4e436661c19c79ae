import { readFile } from 'node:fs/promises';
import type { SourceContribution } from '../../store/build-snapshot.js';
import { parseConfigText } from './parse-config-text.js';
import type { ConfigFileRef } from './scan-config-tree.js';

/** Reads and parses one file; undefined when it vanished since the scan (a deletion in progress). */
export async function readConfigFile(file: ConfigFileRef): Promise<SourceContribution | undefined> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const message = err instanceof Error ? err.message : String(err);
    return {
      resources: [],
      diagnostics: [{ severity: 'error', code: 'ERR_CONFIG_READ', source: file.label, message: `cannot read: ${message}` }],
    };
  }
  return parseConfigText(text, file.label, file.format);
}
