// Shared Jest preset: SWC compiles TypeScript (with Nest's decorator metadata)
// and the ESM-only dependencies (jose, oidc-provider, ...) to CommonJS.
const esmOnly = [
  '@nestjs',
  'cookie',
  'jose',
  'oidc-provider',
  'otplib',
  '@otplib',
  'quick-lru',
  'nanoid',
  '@noble',
  '@scure',
  'oauth4webapi',
  'openid-client',
  'eta',
  'file-type',
  'strtok3',
  'token-types',
  'peek-readable',
  'uint8array-extras',
  '@electric-sql',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  transform: {
    '^.+\\.(t|j|mj|cj)s$': [
      require.resolve('@swc/jest'),
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
};
