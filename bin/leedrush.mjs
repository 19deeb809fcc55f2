#!/usr/bin/env node
// The CLI is TypeScript run by tsx (no build step): register its loader, then load the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../services/embedded/cli.ts');
process.exitCode = await main(process.argv.slice(2));
