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
];

/** What every project (tier) of every workspace shares. */
const project = {
  testEnvironment: 'node',
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
};

/**
 * Test tiers, one Jest project each (`jest --selectProjects unit`):
 * - unit: no processes, sockets or databases; the whole tier answers in seconds;
 * - integration: real PostgreSQL / NATS / dev-azure started by the test on free ports;
 * - e2e: browser journeys, the local stack, the chart and images.
 * A workspace keeps each tier's specs under test/<tier>/ (override `dirs` where it does not).
 */
const TIERS = ['unit', 'integration', 'e2e'];

/**
 * @param {{ dirs?: Partial<Record<'unit' | 'integration' | 'e2e', string[]>>, moduleNameMapper?: Record<string, string> }} [o]
 * @returns {import('jest').Config}
 */
function tiers(o = {}) {
  return {
    testTimeout: 30000,
    projects: TIERS.map((tier) => ({
      ...project,
      displayName: tier,
      testMatch: (o.dirs?.[tier] ?? [`test/${tier}`]).map((d) => `<rootDir>/${d}/**/*.spec.ts`),
      ...(o.moduleNameMapper ? { moduleNameMapper: o.moduleNameMapper } : {}),
    })),
  };
}

module.exports = { tiers };
