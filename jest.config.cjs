/**
 * One `pnpm test` runs every package's suite through jest projects; each package's
 * jest.config.cjs comes from jest.preset.cjs, so tests compile TypeScript in memory
 * (ts-jest) and never need a prior build.
 */
module.exports = {
  projects: ['<rootDir>/packages/engine', '<rootDir>/packages/server', '<rootDir>/packages/loadtest', '<rootDir>/packages/cluster', '<rootDir>/packages/client', '<rootDir>/scripts'],
};
