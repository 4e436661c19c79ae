// `isthmus api import openapi.yaml [--name N] [--namespace NS] [--version V] [--gateway G]
// [--service S --port P]`: prints the resources that serve an OpenAPI document through the gateway,
// ready for `kubectl apply -f -` or a --config folder:
//
//   a ConfigMap holding the document as written (key openapi.yaml), and
//   an API whose version references it, with request validation on, and, given --gateway and
//   --service/--port, routes generated from the document's operations.
//
// The document is checked as the translator will read it (parseOpenApiDocument): one that does not
// parse or is not OpenAPI 3.0/3.1 is refused here, with the reason and exit status 1, instead of
// becoming a diagnostic after it has been applied.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { dump } from 'js-yaml';
import { UsageError } from './args.js';
import { parseOpenApiDocument } from '../translate/apim/openapi-document.js';
import { DEFAULT_OPENAPI_KEY } from '../translate/apim/openapi-routes.js';

export const API_IMPORT_HELP = `Usage: isthmus api import FILE [--name NAME] [--namespace NS] [--version V]
                          [--gateway GATEWAY] [--service SERVICE --port PORT]

Reads an OpenAPI 3.0 or 3.1 document (YAML or JSON) and prints, as YAML, a ConfigMap holding it
and an API that references it from one version, with request validation on (path, query and
header parameters, JSON bodies: 400 naming the field). With --gateway, --service and --port, the
version also generates one route per operation on that Gateway, to that Service port; without
them, add your own routes to the version. Apply with kubectl, or put the output in a --config folder.

Flags:
  --name NAME         The API's name; the ConfigMap is NAME-openapi. (default: from info.title)
  --namespace NS      (default: default)
  --version V         The version's name. (default: v + the major of info.version, else v1)
  --gateway GATEWAY   The Gateway the generated routes attach to (same namespace).
  --service SERVICE   The backend Service of the generated routes.
  --port PORT         Its port.
A document that does not parse or is not OpenAPI 3.x is refused: exit status 1.
`;

export async function apiImport(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(API_IMPORT_HELP);
    return;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      namespace: { type: 'string' },
      version: { type: 'string' },
      gateway: { type: 'string' },
      service: { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`api import: expected one OpenAPI file, got ${positionals.length}\n\n${API_IMPORT_HELP}`);
  const file = positionals[0]!;
  const namespace = values.namespace ?? 'default';
  if (!isDns1123Label(namespace)) throw new UsageError(`--namespace: expected a namespace name (DNS-1123 label), got ${JSON.stringify(namespace)}`);
  const routing = [values.gateway, values.service, values.port];
  if (routing.some((v) => v !== undefined) && routing.some((v) => v === undefined)) throw new UsageError('--gateway, --service and --port go together (they make the generated routes)');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new UsageError(`--port: expected 1-65535, got ${JSON.stringify(values.port)}`);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ImportError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = parseOpenApiDocument(text);
  if (parsed.kind === 'invalid') throw new ImportError(`${file}: ${parsed.message}`);
  for (const p of parsed.problems) process.stderr.write(`isthmus: warning: ${file}: ${p}\n`);
  if (parsed.model.operations.length === 0) process.stderr.write(`isthmus: warning: ${file}: the document has no operations\n`);

  const name = values.name ?? slug(parsed.model.title);
  if (name === '' || !isDns1123Subdomain(name) || name.length > 200) throw new UsageError(`--name: expected an API name (lower-case letters, digits, '-', '.'), got ${JSON.stringify(name)}${values.name === undefined ? ' from info.title; pass --name' : ''}`);
  const version = values.version ?? versionOf(parsed.model.infoVersion);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(version) || version.length > 63) throw new UsageError(`--version: expected a version name such as v1, got ${JSON.stringify(version)}`);

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-openapi`, namespace },
    data: { [DEFAULT_OPENAPI_KEY]: text },
  };
  const api = {
    apiVersion: 'isthmus.dev/v1alpha1',
    kind: 'API',
    metadata: { name, namespace },
    spec: {
      ...(parsed.model.title !== '' ? { displayName: parsed.model.title.slice(0, 253) } : {}),
      versions: [
        {
          name: version,
          stage: 'published',
          openapi: {
            configMapRef: { name: `${name}-openapi`, key: DEFAULT_OPENAPI_KEY },
            validate: { requests: true },
            ...(values.gateway !== undefined
              ? { generateRoutes: { parentRefs: [{ name: values.gateway }], backendRef: { name: values.service!, port: port! } } }
              : {}),
          },
        },
      ],
    },
  };
  const header = values.gateway === undefined ? `# Generated by isthmus api import ${file}. No routes are generated (no --gateway/--service/--port):\n# add routes: [...] to the version, or generateRoutes to its openapi.\n` : `# Generated by isthmus api import ${file}.\n`;
  process.stdout.write(header + dump(configMap, { lineWidth: -1, noRefs: true }) + '---\n' + dump(api, { lineWidth: -1, noRefs: true }));
}

/** A refused document: exit status 1 (a usage error is 2). */
export class ImportError extends Error {}

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** `v` + the major of info.version (`2.1.0` → `v2`), else `v1`. */
function versionOf(infoVersion: string): string {
  const m = /^v?(\d+)/.exec(infoVersion.trim());
  return m === null ? 'v1' : `v${Number(m[1])}`;
}

function isDns1123Label(value: string): boolean {
  return value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(isDns1123Label);
}
