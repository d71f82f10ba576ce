/**
 * The import rules between the top-level parts (README "Dependency map"), checked by
 * `npm run lint:deps` in `npm test`. Every part may import core/; core/ imports no part; a part
 * reaches another part only through the edges listed here, each named for the file it may import,
 * so a new edge is a deliberate change to this file. The allowed edges form no cycle:
 *   core ← templates ← functions
 *   core ← scheduler ← profiler ← gateway ← cli → fast-manager → core
 * and cli, bench and test are entry points nothing imports (bin only starts cli).
 */
const PARTS = [
  'core',
  'gateway',
  'fast-manager',
  'profiler',
  'scheduler',
  'templates',
  'functions',
  'cli',
  'bench',
  'test',
  'bin',
];
const part = (p) => `^${p}/`;
/** Any top-level part except those named. */
const otherThan = (...keep) => `^(${PARTS.filter((p) => !keep.includes(p)).join('|')})/`;

/** Files of another part that a part may import (the current edges, explicit). */
const ALLOWED = {
  // the live autoscaler wraps the scheduler's planner; the balancer uses its routing weights; profiles come from the
  // profiler
  gateway: [
    '^scheduler/(routing|explain|demand-estimator|planner|types)\\.ts$',
    '^scheduler/policies/policy\\.ts$',
    '^scheduler/live/(profile-source|live-function|round)\\.ts$',
    '^profiler/(profiler|grid|service|csv|chart)\\.ts$',
  ],
  // the profiler writes the tables the scheduler's ProfileSource reads
  profiler: ['^scheduler/live/profile-source\\.ts$'],
};

module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-part',
      comment: 'core/ is the shared base: it may not import any top-level part.',
      severity: 'error',
      from: { path: part('core') },
      to: { path: otherThan('core') },
    },
    {
      name: 'templates-only-core',
      comment:
        'Template runtimes run inside bundles: they may import core/ (as fastgshare/core/...) and themselves only.',
      severity: 'error',
      from: { path: part('templates') },
      to: { path: otherThan('core', 'templates') },
    },
    {
      name: 'functions-only-templates-and-core',
      severity: 'error',
      from: { path: part('functions') },
      to: { path: otherThan('core', 'templates', 'functions') },
    },
    {
      name: 'scheduler-only-core',
      comment: 'The scheduler is pure planning code: it imports core/ only.',
      severity: 'error',
      from: { path: part('scheduler') },
      to: { path: otherThan('core', 'scheduler') },
    },
    {
      name: 'fast-manager-only-core',
      comment: 'The node agent talks to the gateway through core/contracts only.',
      severity: 'error',
      from: { path: part('fast-manager') },
      to: { path: otherThan('core', 'fast-manager') },
    },
    {
      name: 'profiler-only-core-and-listed',
      severity: 'error',
      from: { path: part('profiler') },
      to: { path: otherThan('core', 'profiler'), pathNot: ALLOWED.profiler },
    },
    {
      name: 'gateway-only-core-and-listed',
      severity: 'error',
      from: { path: part('gateway') },
      to: { path: otherThan('core', 'gateway'), pathNot: ALLOWED.gateway },
    },
    {
      name: 'entry-points-are-not-imported',
      comment: 'cli/, bench/ and test/ wire and drive the parts; no part imports them (bin/ starts the CLI).',
      severity: 'error',
      from: { path: '^(core|gateway|fast-manager|profiler|scheduler|templates|functions)/' },
      to: { path: '^(cli|bench|test|bin)/' },
    },
    {
      name: 'cli-not-from-bench-or-test-insides',
      severity: 'error',
      from: { path: part('cli') },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'bench-not-from-test',
      severity: 'error',
      from: { path: part('bench') },
      to: { path: '^(test|cli)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (a moved or misspelt module).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|build|\\.fastgshare)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
