#!/usr/bin/env node
/** The `tim-attr` executable: the CLI on the real process (see cli/main.ts). */
import { processIo } from './io.ts';
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo());
