const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  // The Prisma client is generated as TypeScript with `.js` import suffixes (ESM style).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
