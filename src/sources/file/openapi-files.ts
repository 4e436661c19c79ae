// The OpenAPI documents that API versions name by `openapi.file`, read for the (pure) translator.
//
// A path is relative to the folder of the YAML file that declares the API, and must stay inside
// the config roots (a folder root, or the folder of a file root): `isthmus run --config DIR`
// exposes DIR, not the filesystem, so `../../etc/passwd` or an absolute path elsewhere is refused
// — lexically and again after symlinks are followed. A file named this way is a document, not
// config: its parse as resources is dropped (it has no `kind`, and would only be noise).
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Api } from '../../resources/resource.js';
import type { SourceContribution } from '../../store/build-snapshot.js';
import { openApiFileKey, type OpenApiFileRead } from '../../store/resource-snapshot.js';
import { formatCount } from './bound-expansion.js';
import { readBounded } from './read-config-file.js';
import type { ConfigFileRef } from './scan-config-tree.js';

export interface LoadedConfigFile {
  readonly file: ConfigFileRef;
  readonly contribution: SourceContribution;
}

export interface OpenApiFiles {
  /** Keyed by openApiFileKey(the API's source, the path as written). */
  readonly documents: ReadonlyMap<string, OpenApiFileRead>;
  /** Absolute paths (as found and resolved) of the documents: not config. */
  readonly documentPaths: ReadonlySet<string>;
  /** Folder → entry names to watch, so an edit to a document reloads even outside a watched folder. */
  readonly watch: ReadonlyMap<string, ReadonlySet<string>>;
  /** Changes whenever any document's text or refusal does. */
  readonly fingerprint: string;
}

function isInside(candidate: string, root: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel);
}

/** The folders documents may live in: each folder root, and the folder of each file root. */
async function containmentRoots(roots: readonly string[]): Promise<{ lexical: string[]; real: string[] }> {
  const lexical: string[] = [];
  const real: string[] = [];
  for (const root of roots) {
    const absolute = path.resolve(root);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) continue;
    const folder = info.isDirectory() ? absolute : path.dirname(absolute);
    lexical.push(folder);
    real.push(await realpath(folder).catch(() => folder));
  }
  return { lexical, real };
}

async function readDocument(written: string, declaredIn: ConfigFileRef, roots: { lexical: string[]; real: string[] }, maxBytes: number, found: Set<string>): Promise<OpenApiFileRead> {
  const candidate = path.resolve(path.dirname(declaredIn.path), written);
  if (!roots.lexical.some((root) => isInside(candidate, root))) {
    return { kind: 'refused', message: `"${written}" resolves outside the config folders (${path.isAbsolute(written) ? 'an absolute path' : 'relative to the folder of ' + declaredIn.label}); documents must sit inside them` };
  }
  found.add(candidate);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kind: 'refused', message: code === 'ENOENT' ? `"${written}" does not exist (looked for ${path.relative(process.cwd(), candidate) || candidate})` : `"${written}" cannot be read: ${(err as Error).message}` };
  }
  // A symlink inside the folder that points out of it is an escape too.
  if (!roots.real.some((root) => isInside(real, root))) return { kind: 'refused', message: `"${written}" is a link to a file outside the config folders` };
  found.add(real);
  try {
    const read = await readBounded(real, maxBytes);
    if (read.kind === 'not-a-file') return { kind: 'refused', message: `"${written}" is not a regular file` };
    if (read.kind === 'too-large') return { kind: 'refused', message: `"${written}" is larger than ${formatCount(maxBytes)} bytes` };
    return { kind: 'text', text: read.text };
  } catch (err) {
    return { kind: 'refused', message: `"${written}" cannot be read: ${(err as Error).message}` };
  }
}

/** Reads every document the loaded files' APIs name by `openapi.file`. I/O, in the source only. */
export async function readOpenApiFiles(loaded: readonly LoadedConfigFile[], roots: readonly string[], maxBytes: number): Promise<OpenApiFiles> {
  const documents = new Map<string, OpenApiFileRead>();
  const documentPaths = new Set<string>();
  const watch = new Map<string, Set<string>>();
  const hash = createHash('sha256');
  let containment: { lexical: string[]; real: string[] } | undefined;
  for (const { file, contribution } of loaded) {
    for (const resource of contribution.resources) {
      if (resource.kind !== 'API') continue;
      for (const version of (resource as Api).spec.versions) {
        const written = version.openapi?.file;
        if (written === undefined) continue;
        const key = openApiFileKey(resource.source, written);
        if (documents.has(key)) continue;
        containment ??= await containmentRoots(roots);
        const found = new Set<string>();
        const read = await readDocument(written, file, containment, maxBytes, found);
        documents.set(key, read);
        for (const p of found) {
          documentPaths.add(p);
          const names = watch.get(path.dirname(p)) ?? new Set<string>();
          names.add(path.basename(p));
          watch.set(path.dirname(p), names);
        }
        hash.update(key).update('\0').update(read.kind === 'text' ? 't' + read.text : 'r' + read.message).update('\0');
      }
    }
  }
  return { documents, documentPaths, watch, fingerprint: hash.digest('hex') };
}

/** The contributions without the documents' own parse as config. */
export function withoutDocuments(loaded: readonly LoadedConfigFile[], documents: OpenApiFiles): SourceContribution[] {
  return loaded.filter(({ file }) => !documents.documentPaths.has(file.path)).map(({ contribution }) => contribution);
}
