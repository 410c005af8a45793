// The CommonJS build (dist/cjs, from tsconfig.cjs.json) lives inside a package whose
// "type" is "module": this marker makes Node and TypeScript read its .js and .d.ts
// files as CommonJS.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{\n  "type": "commonjs"\n}\n');
