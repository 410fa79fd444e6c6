/**
 * The layers, checked in `npm run lint`. lib/ is the product and stands alone; handlers/ wire it into Lambda;
 * cli/, scripts/, bench/ and test/ use it. No module imports itself back through a circle.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other in a loop.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-stands-alone',
      severity: 'error',
      comment: 'The product imports none of the tools around it.',
      from: { path: '^lib/' },
      to: { path: '^(handlers|cli|scripts|bench|test)/' },
    },
    {
      name: 'core-names-no-adapter',
      severity: 'error',
      comment:
        'lib/core (use cases, rules, lane planning, dispatch) speaks through its ports (lib/core/ports.ts): it imports no adapter, no pacing, no AWS SDK.',
      from: { path: '^lib/core/' },
      to: { path: ['^lib/(?!core/|validation/)', '@aws-sdk/', '@aws-lambda-powertools/', '@middy/'] },
    },
    {
      name: 'composition-root-on-top',
      severity: 'error',
      comment: 'lib/service wires the adapters to the core; nothing below it imports it.',
      from: { path: '^lib/(?!service/)' },
      to: { path: '^lib/service/' },
    },
    {
      name: 'handlers-only-wire',
      severity: 'error',
      comment: 'A handler wires lib/ into Lambda and nothing else.',
      from: { path: '^handlers/' },
      to: { path: '^(cli|scripts|bench|test)/' },
    },
    {
      name: 'cli-uses-lib-only',
      severity: 'error',
      comment: 'The operator CLI ships without the local stack or the tests.',
      from: { path: '^cli/' },
      to: { path: '^(scripts|bench|test|handlers)/' },
    },
    {
      name: 'local-stack-uses-lib-only',
      severity: 'error',
      comment:
        'The local stack (IM emulator, queues, tables, the event source that invokes the handlers) serves npm start, the tests and the benchmarks alike.',
      from: { path: '^local/' },
      to: { path: '^(cli|scripts|bench|test)/' },
    },
    {
      name: 'scripts-not-cli-or-tests',
      severity: 'error',
      comment: 'npm start and its scripts depend on lib/ and local/ only.',
      from: { path: '^scripts/' },
      to: { path: '^(cli|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
