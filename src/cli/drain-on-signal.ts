// SIGTERM / SIGINT for a long-running command (`run`, `sidecar`): drain once, within the grace,
// say how many requests were cut, and exit 0. One place, so both commands stop the same way.

export interface Drainable {
  /** Resolves with the number of requests cut at the grace deadline. */
  stop(): Promise<number>;
}

export function drainOnSignal(label: string, graceMs: number, target: Drainable, afterStop?: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${label}: ${signal}: draining (grace ${graceMs} ms)\n`);
    const cut = await target.stop();
    await afterStop?.();
    process.stderr.write(`${label}: stopped${cut > 0 ? ` (${cut} requests cut at the deadline)` : ''}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
