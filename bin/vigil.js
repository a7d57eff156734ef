#!/usr/bin/env node
// Entry point of the `vigil` command: the compiled CLI (npm ci builds it through `prepare`).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
// Output drains on its own; a stray keep-alive handle must not keep a finished command alive.
// stdout and stderr are synchronous on Linux; `vigil run` counts this second in its 15 s stop budget.
setTimeout(() => process.exit(), 1_000).unref();
