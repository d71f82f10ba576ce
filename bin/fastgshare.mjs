#!/usr/bin/env node
// The fastgshare CLI: registers tsx so the TypeScript sources run as they are, then runs cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main({ argv: process.argv.slice(2), env: process.env, io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin } });
process.exitCode = code;
// a long-running command has already closed everything it opened; do not wait for stray handles
if (process.argv[2] === 'up' || process.argv[2] === 'gateway' || process.argv[2] === 'node') process.exit(code);
