#!/usr/bin/env node
// @ts-check
// Compiles the platform and CLI ahead of time (npm `prepare` with --lenient, or `npm run build`): TypeScript's own
// compiler with tsconfig.build.json, into build/_js/, then a stamp that bin/fastgshare.mjs compares
// with the sources to decide whether the build is up to date.
//
// Diagnostic 2877 is expected and not an error here: templates/ import the platform's core as
// `fastgshare/core/x.ts` (they also run inside function images, where that is how they reach it);
// tsc leaves such specifiers as they are, so the emit rewrites them (selfReferences below) to the
// relative path of the compiled module: the compiled CLI then loads one copy of each module
// without a module resolution hook (a hook runs on its own thread in Node 20 and cost ~100 ms of
// every start). Any other diagnostic fails.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = new Date();
const configPath = join(root, 'tsconfig.build.json');
/** @type {ts.ParseConfigFileHost} */
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => report([d]) };
const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, host);
if (!parsed) process.exit(1);
const EXPECTED = new Set([2877]);

/** @param {readonly ts.Diagnostic[]} diagnostics */
function report(diagnostics) {
  const text = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  });
  process.stderr.write(text);
}

/**
 * An emit transformer: the package's self-references `fastgshare/<path>.ts` in import and export
 * declarations and in `import()` calls become `./<relative path>.js` from the emitted file.
 *
 * @type {ts.TransformerFactory<ts.SourceFile>}
 */
function selfReferences(context) {
  const f = context.factory;
  return (sourceFile) => {
    const from = dirname(sourceFile.fileName);
    /** @param {ts.Expression} lit */
    const rewrite = (lit) => {
      if (!ts.isStringLiteral(lit) || !lit.text.startsWith('fastgshare/') || !lit.text.endsWith('.ts')) return lit;
      let rel = relative(from, join(root, lit.text.slice('fastgshare/'.length, -'.ts'.length) + '.js'));
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return f.createStringLiteral(rel);
    };
    /** @type {ts.Visitor} */
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && node.moduleSpecifier) {
        return f.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          rewrite(node.moduleSpecifier),
          node.attributes,
        );
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        return f.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          rewrite(node.moduleSpecifier),
          node.attributes,
        );
      }
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments.length > 0
      ) {
        return f.updateCallExpression(node, node.expression, node.typeArguments, [
          rewrite(node.arguments[0]),
          ...node.arguments.slice(1),
        ]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return /** @type {ts.SourceFile} */ (ts.visitNode(sourceFile, visit));
  };
}

const program = ts.createIncrementalProgram({
  rootNames: parsed.fileNames,
  options: parsed.options,
  projectReferences: parsed.projectReferences,
  configFileParsingDiagnostics: parsed.errors,
});
const emitted = program.emit(undefined, undefined, undefined, false, { after: [selfReferences] });
const diagnostics = [...ts.getPreEmitDiagnostics(program.getProgram()), ...emitted.diagnostics].filter(
  (d) => !EXPECTED.has(d.code),
);
if (diagnostics.length > 0 || emitted.emitSkipped) {
  report(diagnostics);
  process.stderr.write(
    `fastgshare: compiling failed (${diagnostics.length} errors); the CLI keeps running from the TypeScript sources through tsx\n`,
  );
  // at install (`prepare`) a failed compile must not fail the install: the sources still run
  process.exit(process.argv.includes('--lenient') ? 0 : 1);
}
const outDir = parsed.options.outDir;
if (!outDir) throw new Error('tsconfig.build.json sets no outDir');
mkdirSync(outDir, { recursive: true });
const stamp = join(outDir, '.stamp');
writeFileSync(stamp, `compiled ${started.toISOString()} by bin/compile.mjs\n`);
utimesSync(stamp, started, started); // a source saved while compiling is newer than the build
process.stdout.write(`fastgshare: compiled ${parsed.fileNames.length} files to ${outDir.replace(root + '/', '')}/\n`);
