// `isthmus keys create --consumer NAME --namespace NS [--secret NAME]`: makes an API key for a
// Consumer. The key is printed once, to stderr, and kept nowhere; stdout gets a Secret holding only
// its SHA-256, ready for `kubectl apply -f -` or a --config folder. The translator reads such
// Secrets into IrApiKeyMethod.keys (src/ir/apim.ts), so neither the cluster nor the gateway ever
// holds the key itself.
//
// The Secret (the contract with the policy translator):
//
//   apiVersion: v1
//   kind: Secret
//   metadata:
//     name: apikey-<consumer>-<first 8 hex digits of the SHA-256>   (or --secret NAME)
//     namespace: <NS>
//     labels:
//       isthmus.dev/consumer: <consumer>        the Consumer (same namespace) this key identifies
//       isthmus.dev/credential: api-key
//   type: isthmus.dev/api-key
//   stringData:
//     sha256: <64 lower-case hex digits>        SHA-256 of the key's UTF-8 bytes (the whole `isk_...` string)
//
// `stringData`, not `data`, so the file reads plainly; the API server stores it as `data.sha256`
// (base64 of the hex text), and readSecretValue (src/resources/well-known.ts) reads either.
// The name carries a piece of the hash so several keys of one consumer (a rotation) coexist.
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';

/** Recognisable in logs, tickets and secret scanners (as GitHub's `ghp_`), and never a JWT or a Basic pair. */
export const API_KEY_PREFIX = 'isk_';
export const API_KEY_SECRET_TYPE = 'isthmus.dev/api-key';
export const API_KEY_CONSUMER_LABEL = 'isthmus.dev/consumer';
export const API_KEY_SHA256_FIELD = 'sha256';

export const KEYS_CREATE_HELP = `Usage: isthmus keys create --consumer NAME --namespace NS [--secret NAME]

Generates an API key (32 random bytes, base64url, prefixed ${API_KEY_PREFIX}) for the Consumer NAME.
The key is printed once to stderr and stored nowhere; stdout is a Secret holding only its SHA-256,
labelled ${API_KEY_CONSUMER_LABEL}: NAME, e.g.:  isthmus keys create --consumer acme --namespace shop | kubectl apply -f -
`;

export async function keysCreate(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(KEYS_CREATE_HELP);
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: { consumer: { type: 'string' }, namespace: { type: 'string' }, secret: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const consumer = required(values.consumer, '--consumer');
  const namespace = required(values.namespace, '--namespace');
  // A Consumer is a Kubernetes object (a DNS-1123 subdomain), and its name is a label value here (≤ 63).
  if (!isDns1123Subdomain(consumer) || consumer.length > 63) throw new UsageError(`--consumer: expected a Consumer name (lower-case letters, digits, '-', '.'; at most 63), got ${JSON.stringify(consumer)}`);
  if (!isDns1123Label(namespace)) throw new UsageError(`--namespace: expected a namespace name (DNS-1123 label), got ${JSON.stringify(namespace)}`);
  if (values.secret !== undefined && !isDns1123Subdomain(values.secret)) throw new UsageError(`--secret: expected a Secret name (DNS-1123 subdomain), got ${JSON.stringify(values.secret)}`);

  const key = generateApiKey();
  const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
  const secret = values.secret ?? `apikey-${consumer}-${sha256.slice(0, 8)}`.slice(0, 253);
  process.stderr.write(`API key for ${namespace}/${consumer} (shown once; Isthmus stores only its SHA-256, it cannot be recovered):\n${key}\n`);
  process.stdout.write(renderApiKeySecret({ name: secret, namespace, consumer, sha256 }));
}

/** 32 bytes from the CSPRNG: 256 bits, so the SHA-256 in the Secret cannot be searched back to the key. */
export function generateApiKey(bytes: Buffer = randomBytes(32)): string {
  return API_KEY_PREFIX + bytes.toString('base64url');
}

/** The Secret as YAML; every value is validated above, so none needs quoting beyond the hex. */
export function renderApiKeySecret(s: { name: string; namespace: string; consumer: string; sha256: string }): string {
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${s.name}`,
    `  namespace: ${s.namespace}`,
    '  labels:',
    `    ${API_KEY_CONSUMER_LABEL}: ${s.consumer}`,
    '    isthmus.dev/credential: api-key',
    `type: ${API_KEY_SECRET_TYPE}`,
    'stringData:',
    // Quoted: an all-digit hex string would otherwise read as a number.
    `  ${API_KEY_SHA256_FIELD}: "${s.sha256}"`,
    '',
  ].join('\n');
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required\n\n${KEYS_CREATE_HELP}`);
  return value;
}

function isDns1123Label(value: string): boolean {
  return value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(isDns1123Label);
}
