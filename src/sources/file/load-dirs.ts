import { buildSnapshot, type SourceContribution } from '../../store/build-snapshot.js';
import type { ResourceSnapshot } from '../../store/resource-snapshot.js';
import { readConfigFile } from './read-config-file.js';
import { scanConfigTree } from './scan-config-tree.js';

/** Files read at once: enough to overlap I/O, few enough to stay far from the fd limit. */
const READ_CONCURRENCY = 32;

/** One-shot load of every config file below the folders (`isthmus validate`, tests). */
export async function loadDirs(dirs: readonly string[], generation = 1): Promise<ResourceSnapshot> {
  const tree = await scanConfigTree(dirs);
  const contributions: SourceContribution[] = [{ resources: [], diagnostics: tree.diagnostics }];
  for (let i = 0; i < tree.files.length; i += READ_CONCURRENCY) {
    const batch = await Promise.all(tree.files.slice(i, i + READ_CONCURRENCY).map((file) => readConfigFile(file)));
    for (const contribution of batch) if (contribution) contributions.push(contribution);
  }
  return buildSnapshot(contributions, generation);
}
