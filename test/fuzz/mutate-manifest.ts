// Mutations of config manifests for the config fuzzer (test/attacks/config-fuzz.test.ts). Seeded,
// so a failing run is replayed exactly from the seed it prints. Mutations mix byte-level damage
// (what a crashed writer or a bad editor leaves) with structural YAML tricks (anchors, merge keys,
// tags, deep nesting, documents spliced together) and the hostile shapes of hostile-yaml.ts at
// sizes around the limits.
import { seededRandom as coreSeededRandom } from '../../src/core/random.js';
import { billionLaughs, deepNesting, deepThroughAlias, mappingLaughs, selfAlias, stringLaughs } from './hostile-yaml.js';

/** mulberry32 from src/core/random.ts, as a plain function: the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  const random = coreSeededRandom(seed);
  return () => random.next();
}

export class Mutator {
  constructor(private readonly random: () => number) {}

  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One to four mutations of `text`, or, now and then, a hostile document on its own. */
  mutate(text: string, corpus: readonly string[]): string {
    if (this.int(10) === 0) return this.hostile();
    let out = text;
    const rounds = 1 + this.int(4);
    for (let i = 0; i < rounds; i++) out = this.pick(this.#mutations)(out, corpus);
    return out;
  }

  /** Small on disk; some expand past the limits, some stay just under them. */
  hostile(): string {
    const shapes: readonly (() => string)[] = [
      () => billionLaughs(2 + this.int(8), 2 + this.int(8)),
      () => mappingLaughs(2 + this.int(6), 2 + this.int(6)),
      () => stringLaughs(1 + this.int(2_000_000), 1 + this.int(40)),
      () => selfAlias(),
      () => deepNesting(1 + this.int(2000)),
      () => deepThroughAlias(1 + this.int(100), 1 + this.int(100)),
    ];
    return this.pick(shapes)();
  }

  readonly #mutations: readonly ((text: string, corpus: readonly string[]) => string)[] = [
    // Byte damage.
    (t) => this.#at(t, (i) => t.slice(0, i) + String.fromCharCode(this.int(256)) + t.slice(i + 1)),
    (t) => this.#at(t, (i) => t.slice(0, i) + t.slice(i + 1 + this.int(64))),
    (t) => this.#at(t, (i) => t.slice(0, i)),
    (t) => this.#at(t, (i) => {
      const length = 1 + this.int(200);
      return t.slice(0, i + length) + t.slice(i, i + length).repeat(1 + this.int(50)) + t.slice(i + length);
    }),
    // Tokens that mean something to YAML or to our schemas.
    (t) => this.#at(t, (i) => t.slice(0, i) + this.pick(TOKENS) + t.slice(i)),
    // Swap a scalar value for a hostile one.
    (t) => t.replace(/: ([^\n{}[\],]+)/g, (whole, _value: string) => (this.int(6) === 0 ? `: ${this.pick(VALUES)}` : whole)),
    // Re-indent a line: YAML structure changes with a space.
    (t) => {
      const lines = t.split('\n');
      const i = this.int(lines.length);
      lines[i] = this.int(2) === 0 ? ` ${lines[i]}` : lines[i]!.replace(/^ /, '');
      return lines.join('\n');
    },
    // Splice with another manifest, as separate documents or cut in the middle.
    (t, corpus) => (this.int(2) === 0 ? `${t}\n---\n${this.pick(corpus)}` : t.slice(0, this.int(t.length + 1)) + this.pick(corpus)),
    // Anchor a node and alias it many times elsewhere.
    (t) => {
      const anchored = t.replace(/^(\s*\w+:)( *)$/m, '$1 &fz');
      if (anchored === t) return t;
      return `${anchored}\nfuzzAliases: [${Array(1 + this.int(300)).fill('*fz').join(', ')}]\n`;
    },
    // Wrap the document in nested flow collections.
    (t) => `${'['.repeat(1 + this.int(150))}${JSON.stringify(t)}${']'.repeat(1 + this.int(150))}`,
  ];

  #at(text: string, edit: (index: number) => string): string {
    return edit(this.int(text.length + 1));
  }
}

const TOKENS: readonly string[] = [
  '&a ', '*a', '*undefined_alias', '<<: *a\n', '!!binary ', '!!js/function ', '!!python/object ', '? ',
  '\n---\n', '\n...\n', '{', '}', '[', ']', '"', "'", '\t', '\u0000', '\uFEFF', '\uD800', '%YAML 1.1\n',
  '%TAG ! tag:x,2000:\n', '#', '|', '>', '- ', ': ', '\r', '\\u0000', 'x'.repeat(10_000),
];

const VALUES: readonly string[] = [
  '-1', '0', '65536', '70000', '1e999', '-0', '.nan', '.inf', '0x50', '0o17', 'null', '~', 'true', '""',
  '[]', '{}', '"\\u0000"', `"${'a'.repeat(300)}"`, '"a\nb"', '"/../../etc"', '"*.*.example.com"',
  '"(a+)+$"', '"::1"', '"0.0.0.0/0"', '"http://evil.example.com/"', '2147483648', '"ExactOrNot"',
];
