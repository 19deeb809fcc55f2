/**
 * The alert rules (grafana/alerts/leedrush.rules.yml) checked by promtool, the Debian prometheus package's
 * own tool that the stack installs: syntax and semantics (`check rules`), then the unit tests of each
 * alert on input series (`test rules`, leedrush.rules.test.yml). A rule made blind must fail those
 * tests; and the stack's running Prometheus must have loaded every rule (rule_files in prometheus.yml).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../services/lib/config.ts';

const ALERTS = join(REPO_ROOT, 'grafana', 'alerts');
const RULES = 'leedrush.rules.yml';
const TESTS = 'leedrush.rules.test.yml';

function promtool(args: string[], cwd: string) {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error)
    throw new Error(`promtool ${args.join(' ')}: ${r.error.message} (the stack installs it with prometheus)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const alertNames = (): string[] =>
  (
    parse(readFileSync(join(ALERTS, RULES), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> }
  ).groups
    .flatMap((g) => g.rules.map((r) => r.alert))
    .sort();

const scratch = mkdtempSync(join(tmpdir(), 'leedrush-alerts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES], ALERTS);
    expect(r.out).toContain(`SUCCESS: ${alertNames().length} rules found`);
    expect(r.code).toBe(0);
  });

  it('cover lag, DLQ, webhook failures and stalled batches', () => {
    expect(alertNames()).toEqual([
      'LeedrushConsumerLagGrowing',
      'LeedrushDlqRecords',
      'LeedrushNoBatchProgress',
      'LeedrushServiceDown',
      'LeedrushWebhookDeliveriesGivenUp',
      'LeedrushWebhookFailureRate',
    ]);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool(['test', 'rules', TESTS], ALERTS);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('fail those tests when a rule is made blind', () => {
    cpSync(ALERTS, scratch, { recursive: true });
    const text = readFileSync(join(scratch, RULES), 'utf8');
    const blind = text.replace(
      '(increase(leedrush_runtime_dlq_total[5m])) > 0',
      '(increase(leedrush_runtime_dlq_total[5m])) > 5',
    );
    expect(blind).not.toBe(text);
    writeFileSync(join(scratch, RULES), blind);
    const r = promtool(['test', 'rules', TESTS], scratch);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('alertname: LeedrushDlqRecords');
  });

  it('are loaded by the stack Prometheus', async () => {
    const res = await fetch(`${process.env.PROMETHEUS_URL}/api/v1/rules?type=alert`);
    const body = (await res.json()) as {
      data: { groups: Array<{ file: string; rules: Array<{ name: string; health: string }> }> };
    };
    const loaded = body.data.groups.filter((g) => g.file.endsWith(RULES)).flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(alertNames());
    expect(loaded.filter((r) => r.health === 'err')).toEqual([]);
  });
});
