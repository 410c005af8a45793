const { packageJestConfig } = require('../jest.preset.cjs');

module.exports = packageJestConfig(__dirname, { displayName: 'scripts' });
