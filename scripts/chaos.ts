/**
 * `npm run chaos`: the chaos run of test/support/chaos.ts against the local stack (started if it is not
 * running), printing each fault's heal time, the back-pressure figures and the counts; exit 1 when an
 * invariant broke. It restarts the stack's Kafka, Redis and ClickHouse: point STACK_DIR and the
 * STACK_*_PORT settings at a stack nobody else is using.
 *
 *   npm run chaos -- [--rows 20000] [--clickhouse-down-s 60] [--provider-latency-ms 150] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHAOS_DEFAULTS, chaosViolations, faultTable, runChaos } from '../test/support/chaos.ts';
import { up } from './stack/stack.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    'clickhouse-down-s': { type: 'string' },
    'provider-latency-ms': { type: 'string' },
    json: { type: 'string' },
  },
});
const num = (v: string | undefined, fallback: number, name: string) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number, not ${v}`);
  return n;
};

const env = await up();
for (const [key, value] of Object.entries(env)) process.env[key] ??= value;
const report = await runChaos({
  ...CHAOS_DEFAULTS,
  rows: num(values.rows, CHAOS_DEFAULTS.rows, 'rows'),
  clickhouseDownMs:
    num(values['clickhouse-down-s'], CHAOS_DEFAULTS.clickhouseDownMs / 1000, 'clickhouse-down-s') * 1000,
  providerLatencyMs: num(
    values['provider-latency-ms'],
    CHAOS_DEFAULTS.providerLatencyMs,
    'provider-latency-ms',
  ),
  log: (line) => process.stderr.write(`chaos: ${line}\n`),
});
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
const violations = chaosViolations(report);
process.stdout.write(
  `${faultTable(report)}\n\nback-pressure: ${JSON.stringify(report.backPressure)}\ncounts: ${JSON.stringify(report.counts)}\nduration ${report.durationS} s\n${
    violations.length ? `VIOLATIONS:\n- ${violations.join('\n- ')}\n` : 'every invariant held\n'
  }`,
);
process.exit(violations.length ? 1 : 0);
