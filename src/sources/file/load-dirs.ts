import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import { DEFAULT_CONFIG_LIMITS } from './config-limits.js';
import { readOpenApiFiles, withoutDocuments, type LoadedConfigFile } from './openapi-files.js';
import { readConfigFile } from './read-config-file.js';
import { scanConfigTree } from './scan-config-tree.js';

/** Files read at once: enough to overlap I/O, few enough to stay far from the fd limit. */
const READ_CONCURRENCY = 32;

/** One-shot load of every config file below the folders (`isthmus validate`, tests). */
export async function loadDirs(dirs: readonly string[], generation = 1): Promise<ResourceSnapshot> {
  const tree = await scanConfigTree(dirs);
  const loaded: LoadedConfigFile[] = [];
  for (let i = 0; i < tree.files.length; i += READ_CONCURRENCY) {
    const files = tree.files.slice(i, i + READ_CONCURRENCY);
    const batch = await Promise.all(files.map((file) => readConfigFile(file)));
    batch.forEach((contribution, j) => {
      if (contribution) loaded.push({ file: files[j]!, contribution });
    });
  }
  const documents = await readOpenApiFiles(loaded, dirs, DEFAULT_CONFIG_LIMITS.maxFileBytes);
  const contributions: SourceContribution[] = [{ resources: [], diagnostics: tree.diagnostics }, ...withoutDocuments(loaded, documents)];
  return { ...buildSnapshot(contributions, generation), openApiFiles: documents.documents };
}
