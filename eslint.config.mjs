import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const services = ['policy-api', 'portal', 'scim', 'token-broker'];

/** Imports a folder's production code may not make: other services, and the dev-only stand-ins. */
const boundary = (forbidden, why) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...forbidden.map((name) => ({ group: [`@idp/${name}`, `@idp/${name}/*`], message: why })),
        { group: ['**/services/*', '**/services/*/**'], message: why },
        {
          group: ['@idp/dev-azure', '@idp/dev-azure/*', '**/dev-azure/**'],
          message: 'dev-azure is a dev/test stand-in: production code must not import it.',
        },
      ],
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/generated/**',
      '**/node_modules/**',
      '**/.dev/**',
      'helm/**',
      'k8s/rendered/**',
      '**/artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  // Type-aware rules that catch real bugs: forgotten awaits, promises where callbacks belong,
  // switches that miss a case of a union.
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
  // Import boundaries: services never import each other, shared packages never import a service,
  // production code never imports the dev-only stand-ins.
  ...services.map((name) => ({
    files: [`services/${name}/src/**/*.ts`],
    rules: boundary(
      services.filter((s) => s !== name),
      'A service must not import another service: talk over NATS/HTTP contracts in packages/contracts.',
    ),
  })),
  {
    files: ['packages/*/src/**/*.ts'],
    rules: boundary(services, 'Shared packages must not import a service.'),
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'scripts/**', 'benchmarks/**'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
