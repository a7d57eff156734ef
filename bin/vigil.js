#!/usr/bin/env node
// Entry point of the `vigil` command: the compiled CLI (npm ci builds it through `prepare`).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
// Output drains on its own; a stray keep-alive handle must not keep a finished command alive.
setTimeout(() => process.exit(), 3_000).unref();
