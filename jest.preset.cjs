/**
 * Shared jest configuration for the workspace packages.
 *
 * Packages are ESM ("type": "module", imports end in `.js`), but jest runs them as
 * CommonJS compiled in memory by ts-jest: the `.js` suffix is stripped by the
 * mapper, and `@slabcache/*` imports resolve to the sibling package's `src/`, so a
 * test always runs the source as it is now, never a stale `dist/`.
 */
const path = require('node:path');

function packageJestConfig(packageDir, overrides = {}) {
  return {
    displayName: path.basename(packageDir),
    rootDir: packageDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    transform: {
      '^.+\\.ts$': [
        'ts-jest',
        {
          tsconfig: {
            module: 'commonjs',
            moduleResolution: 'node10',
            // node10 resolution is deprecated in TypeScript 6 but is what CommonJS jest needs.
            ignoreDeprecations: '6.0',
            isolatedModules: true,
            esModuleInterop: true,
          },
          diagnostics: { ignoreCodes: ['TS151001'] },
        },
      ],
    },
    moduleNameMapper: {
      '^@slabcache/engine$': path.join(__dirname, 'packages/engine/src/index.ts'),
      '^@slabcache/server$': path.join(__dirname, 'packages/server/src/index.ts'),
      '^@slabcache/cluster$': path.join(__dirname, 'packages/cluster/src/index.ts'),
      '^@slabcache/client$': path.join(__dirname, 'packages/client/src/index.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    ...overrides,
  };
}

module.exports = { packageJestConfig };
