// Tiers (unit / integration / e2e) from the shared preset. The Prisma client is generated as
// TypeScript with `.js` import suffixes (ESM style).
module.exports = require('../../jest.preset.cjs').tiers({
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
});
