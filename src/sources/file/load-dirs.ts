import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import { DEFAULT_CONFIG_LIMITS } from './config-limits.js';
import { readOpenApiFiles, withoutDocuments, type LoadedConfigFile } from './openapi-files.js';
import { readConfigFile } from './read-config-file.js';
import { scanConfigTree } from './scan-config-tree.js';

/**
 * One-shot load of every config file below the folders (`isthmus validate`, `kube-proxy render`,
 * `explain`, tests). Files are read synchronously (readConfigFile): nothing else runs meanwhile.
 */
export async function loadDirs(dirs: readonly string[], generation = 1): Promise<ResourceSnapshot> {
  const tree = await scanConfigTree(dirs);
  const loaded: LoadedConfigFile[] = [];
  for (const file of tree.files) {
    const contribution = readConfigFile(file);
    if (contribution) loaded.push({ file, contribution });
  }
  const documents = await readOpenApiFiles(loaded, dirs, DEFAULT_CONFIG_LIMITS.maxFileBytes);
  const contributions: SourceContribution[] = [{ resources: [], diagnostics: tree.diagnostics }, ...withoutDocuments(loaded, documents)];
  return { ...buildSnapshot(contributions, generation), openApiFiles: documents.documents };
}
