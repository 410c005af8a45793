#!/usr/bin/env node
// `slabcache` (npx slabcache): the server's command line, dist/cli.js. A committed
// file rather than dist/cli.js itself, so installing the workspace before the
// first build can link the command (pnpm warns about a bin that does not exist).
import '../dist/cli.js';
