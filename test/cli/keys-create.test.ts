// `isthmus keys create` as a real process: the key goes to stderr only, stdout is a Secret that the
// project's own resource parser accepts, whose sha256 is the key's, and that an api-key method
// built from it accepts the key (the translator's path in miniature).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { keysCreate } from '../../src/cli/keys-create.js';
import { UsageError } from '../../src/cli/args.js';
import { parseResource } from '../../src/resources/parse-resource.js';
import { readSecretValue, type Secret } from '../../src/resources/secret.js';
import { compileAuthn, CONSUMER_ATTRIBUTE } from '../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../src/dataplane/filters/auth/jwks-cache.js';
import { ManualClock } from '../../src/core/clock.js';
import { contextOf } from '../dataplane/auth/auth-fixtures.js';

const MODULE = fileURLToPath(new URL('../../src/cli/keys-create.js', import.meta.url));

async function runKeysCreate(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const script = `import(${JSON.stringify(MODULE)}).then((m) => m.keysCreate(process.argv.slice(1)))`;
  return promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { encoding: 'utf8', timeout: 10_000 });
}

function keyFrom(stderr: string): string {
  const match = /^(isk_[A-Za-z0-9_-]{43})$/m.exec(stderr);
  assert.ok(match, `a key on stderr: ${stderr}`);
  return match[1]!;
}

test('keys create: the key only on stderr; stdout a Secret with its SHA-256 and the consumer label', async () => {
  const { stdout, stderr } = await runKeysCreate(['--consumer', 'acme', '--namespace', 'shop']);
  const key = keyFrom(stderr);
  assert.match(stderr, /shown once/);
  assert.ok(!stdout.includes(key), 'the key is never on stdout');
  const sha256 = createHash('sha256').update(key).digest('hex');

  const doc = yaml.load(stdout);
  const parsed = parseResource(doc, 'stdin');
  assert.equal(parsed.kind, 'parsed', JSON.stringify(parsed));
  const secret = (parsed as { resource: Secret }).resource;
  assert.equal(secret.kind, 'Secret');
  assert.equal(secret.metadata.namespace, 'shop');
  assert.equal(secret.metadata.name, `apikey-acme-${sha256.slice(0, 8)}`);
  assert.equal(secret.metadata.labels?.['isthmus.dev/consumer'], 'acme');
  assert.equal(secret.type, 'isthmus.dev/api-key');
  assert.equal(readSecretValue(secret, 'sha256')?.toString('utf8'), sha256);

  // What the translator will do with it: the key authenticates, as that consumer.
  const clock = new ManualClock();
  const { request } = compileAuthn(
    { policy: 'p', realm: 'r', missing: 'deny', methods: [{ kind: 'api-key', from: { header: 'x-api-key' }, keys: [{ sha256, consumer: { name: 'shop/acme', groups: [] } }] }] },
    { clock, jwks: new JwksCache({ clock }) },
  );
  const ctx = contextOf({ headers: { 'x-api-key': key } });
  assert.deepEqual(request(ctx), { kind: 'continue' });
  assert.equal((ctx.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'shop/acme');
});

test('keys create: --secret names the Secret; every run makes a different key', async () => {
  const a = await runKeysCreate(['--consumer', 'acme', '--namespace', 'shop', '--secret', 'acme-key-2025']);
  const b = await runKeysCreate(['--consumer', 'acme', '--namespace', 'shop']);
  assert.match(a.stdout, /^ {2}name: acme-key-2025$/m);
  assert.notEqual(keyFrom(a.stderr), keyFrom(b.stderr));
});

test('keys create: missing or invalid flags are usage errors', async () => {
  for (const args of [[], ['--consumer', 'acme'], ['--consumer', 'Acme Corp', '--namespace', 'shop'], ['--consumer', 'acme', '--namespace', 'shop', '--secret', 'Bad_Name'], ['--consumer', 'acme', '--namespace', 'shop', '--extra', 'x']]) {
    await assert.rejects(keysCreate(args), (err: Error) => err instanceof UsageError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION', JSON.stringify(args));
  }
});
