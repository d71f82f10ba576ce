// @ts-check
/**
 * ESLint (flat config, typescript-eslint parser) over every TypeScript and JavaScript source:
 * `npm run lint`, also run by `npm test` after the type check. The rules are the ones the tree is
 * clean under: unused variables and imports, one import statement per module, no explicit `any`, and
 * lines of at most 120 characters. Layout is Prettier's (.prettierrc.json, `npm run format`; `npm test`
 * runs `format:check`), which wraps code at 120 but not comments or long strings: max-len keeps the
 * comments within it and lets long string and template literals (messages, SVG, Dockerfiles) be.
 */
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'build/**', '.fastgshare/**', 'bench/results/**', 'template/**'] },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin, '@stylistic': stylistic },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      'no-duplicate-imports': ['error', { includeExports: false, allowSeparateTypeImports: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'error',
      '@stylistic/max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // fast-manager/sharing tests type agent answers as `any`; to be typed with core/contracts/node-usage.ts (issue 16)
    files: ['test/fast-manager/sharing/enforcement.timing.ts', 'test/fast-manager/sharing/real-replicas.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
