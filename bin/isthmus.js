#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8
// Thin launcher: the compiled composition root lives in dist/ (built by `npm install`).
//
// Why the first line (docs/memory.md measures both): the process must start with them, since V8
// and glibc read them only at start, so they cannot be set from here. `npm start`, the benchmarks
// and `isthmus` on the PATH all start the gateway through this line; `node bin/isthmus.js` without
// it still works, with Node's defaults and more RSS.
// - --max-semi-space-size=8: V8 grows the young generation up to 2 x 16 MB under load and keeps
//   it. 8 MB per semi-space keeps that to 16 MB; 4 MB saved 8 MB more but doubled the scavenge
//   time per request.
// - MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs its own arena (up to 8 per core) and
//   keeps what is freed in each; the gateway's threads (V8's platform threads, libuv's pool, the
//   parse worker) held 8 arenas, 10-13 MiB. Two arenas cut that by 6-8 MiB at no measurable CPU.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  console.error(err);
  process.exit(1);
});
