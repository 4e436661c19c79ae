// Which files are config, by name. Its own module so that the main thread, which only scans
// folders, does not load the parser and every kind's schema (25 MB of RSS): those run in the
// parse worker (parse-worker-client.ts).

export type ConfigFormat = 'yaml' | 'json';

const FORMAT_BY_EXTENSION: Readonly<Record<string, ConfigFormat>> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

/** The format of a config file by its name, or undefined for files that are not config. */
export function configFormatOf(fileName: string): ConfigFormat | undefined {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? undefined : FORMAT_BY_EXTENSION[fileName.slice(dot).toLowerCase()];
}
