/**
 * npm run topology -- apply | plan
 *   apply: create/update topics, register schemas, run ClickHouse migrations (idempotent).
 *   plan:  print what apply would change, change nothing.
 * Settings come from loadConfig() (.stack/env, then the environment: LEEDRUSH_PREFIX, CLICKHOUSE_DATABASE ...).
 */
import { loadConfigOrExit } from '../services/lib/config.ts';
import { applyTopology } from './apply.ts';

const USAGE = 'usage: npm run topology -- apply | plan';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'apply' && command !== 'plan') {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const config = loadConfigOrExit();
  const dryRun = command === 'plan';
  const prefix = config.LEEDRUSH_PREFIX ? `prefix "${config.LEEDRUSH_PREFIX}", ` : '';
  process.stdout.write(`topology ${command}: ${prefix}database ${config.CLICKHOUSE_DATABASE}\n`);
  if (dryRun) process.stdout.write('dry run, nothing is changed; apply would report:\n');
  const result = await applyTopology(config, {
    dryRun,
    onAction: (line) => process.stdout.write(`${dryRun ? '  ' : ''}${line}\n`),
  });
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  if (result.actions.length === 0) process.stdout.write('nothing to change\n');
  return 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `topology ${process.argv[2]} failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
