// Lint: typescript-eslint's recommended rules, plus the house rules that keep the core editor-free
// and module boundaries typed.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/node_modules/**', '.e2e-run/**', 'test/fixtures/**', '**/*.js', '**/*.mjs', '**/*.cjs',
      // The end-to-end library and tests are JavaScript that is linted (and type-checked: test/e2e/tsconfig.json).
      '!test/e2e/*.js', '!test/e2e/lib/*.js'],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'smart'],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    // CommonJS run by `node --test` without a build step: require() is how it imports.
    files: ['test/e2e/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core never imports vscode: it runs in the worker, the CLI and tests.' }] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/extension/settings.ts'],
    rules: {
      'no-restricted-properties': ['error', { property: 'getConfiguration', message: 'Read and write settings through the Settings object (src/extension/settings.ts).' }],
    },
  },
);
