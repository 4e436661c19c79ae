import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import { DEFAULT_CONFIG_LIMITS } from './config-limits.js';
import { readOpenApiFiles, withoutDocuments, type LoadedConfigFile } from './openapi-files.js';
import { readConfigFiles, type ParallelReadOptions } from './parallel-read.js';
import { scanConfigTree } from './scan-config-tree.js';

export type LoadDirsOptions = ParallelReadOptions;

/**
 * One-shot load of every config file below the folders (`isthmus validate`, `kube-proxy render`,
 * tests). Many files are parsed on two threads (parallel-read.ts); the snapshot is the same.
 */
export async function loadDirs(dirs: readonly string[], generation = 1, options: LoadDirsOptions = {}): Promise<ResourceSnapshot> {
  const tree = await scanConfigTree(dirs);
  const { contributions } = await readConfigFiles(tree.files, DEFAULT_CONFIG_LIMITS, options);
  const loaded: LoadedConfigFile[] = [];
  contributions.forEach((contribution, i) => {
    if (contribution) loaded.push({ file: tree.files[i]!, contribution });
  });
  const documents = await readOpenApiFiles(loaded, dirs, DEFAULT_CONFIG_LIMITS.maxFileBytes);
  const all: SourceContribution[] = [{ resources: [], diagnostics: tree.diagnostics }, ...withoutDocuments(loaded, documents)];
  return { ...buildSnapshot(all, generation), openApiFiles: documents.documents };
}
