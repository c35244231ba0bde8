module.exports = require('../../jest.preset.cjs').tiers({
  moduleNameMapper: {
    // The Prisma client is generated as TypeScript with `.js` import suffixes (ESM style).
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The stand-in from source (its package has no built entry until dev-azure is built).
    '^@idp/dev-azure$': '<rootDir>/../../dev-azure/src',
  },
});
