#!/usr/bin/env -S node --max-semi-space-size=8
// Thin launcher: the compiled composition root lives in dist/ (built by `npm install`).
//
// Why the flag in the first line: V8 grows the young generation up to 2 x 16 MB under load and
// keeps it, which is a fifth of the gateway's RSS. Capping each semi-space at 8 MB keeps that
// to 16 MB for a small cost in CPU (BENCHMARKS.md measures both). V8 reads it only at start,
// so it must be on node's command line: `npm start`, the benchmarks and `isthmus` on the PATH
// all start the gateway through this line; `node bin/isthmus.js` without it still works.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  console.error(err);
  process.exit(1);
});
