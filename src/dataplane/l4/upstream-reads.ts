// Reads from an upstream socket into a buffer we own instead of one node allocates per read
// (`net.connect`'s `onread`), which is most of what a byte stream costs a JS proxy: a 64 KiB
// allocation and a stream event per read. The buffer is reused for the next read only when the
// write that took the previous chunk finished synchronously (the bytes are in the kernel); a write
// still pending holds a reference to the buffer, so the next read gets a fresh one. Bytes that
// arrive before the splice attaches (server-first protocols: SMTP, MySQL, SSH greetings) are copied
// and kept until it does. The buffer starts small (most connections carry little: a request and an
// answer) and doubles each time a read fills it, up to 256 KiB for bulk streams: allocating the
// large one for every short connection cost more than the reads it saved.
const FIRST_READ_BYTES = 16 * 1024;
const MAX_READ_BYTES = 256 * 1024;

/** Takes one chunk (a view into the read buffer, valid until the call returns); false pauses reading. */
export type UpstreamSink = (chunk: Buffer) => boolean;

export class UpstreamReads {
  private buffer = Buffer.allocUnsafe(FIRST_READ_BYTES);
  private held = false;
  private grow = false;
  private sink: UpstreamSink | undefined;
  private early: Buffer[] = [];

  /** For `net.connect({ onread })`. */
  readonly onread = {
    buffer: (): Buffer => {
      if (this.held || this.grow) {
        this.buffer = Buffer.allocUnsafe(this.grow ? Math.min(this.buffer.length * 2, MAX_READ_BYTES) : this.buffer.length);
        this.held = false;
        this.grow = false;
      }
      return this.buffer;
    },
    callback: (n: number, buf: Buffer): boolean => {
      if (n === buf.length && buf.length < MAX_READ_BYTES) this.grow = true;
      const chunk = buf.subarray(0, n);
      if (this.sink !== undefined) return this.sink(chunk);
      this.early.push(Buffer.from(chunk));
      return true;
    },
  };

  /** The last chunk is still referenced (a write did not complete at once): do not read into it again. */
  hold(): void {
    this.held = true;
  }

  /** Starts delivering: first what arrived before, then each read as it comes. */
  attach(sink: UpstreamSink): boolean {
    this.sink = sink;
    const early = this.early;
    this.early = [];
    let flowing = true;
    for (const chunk of early) flowing = sink(chunk) && flowing;
    return flowing;
  }
}
