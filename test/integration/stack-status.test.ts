import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../scripts/stack/components/index.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { isAlive } from '../../scripts/stack/process-manager.ts';
import { status, up } from '../../scripts/stack/stack.ts';
import { readStackEnv } from '../../services/lib/config.ts';

describe('native stack status (the global setup has run `up`)', () => {
  it('reports every component healthy, with a live pid and the version the component reports', async () => {
    const rows = await status();
    expect(rows.map((r) => r.name)).toEqual(COMPONENTS.map((c) => c.name));
    for (const row of rows) {
      expect(row, `${row.name}: ${row.reason ?? ''}`).toMatchObject({ healthy: true });
      expect(row.version).toMatch(/\d+\.\d+/);
      expect(isAlive(row.pid ?? -1)).toBe(true);
    }
    const byName = Object.fromEntries(rows.map((r) => [r.name, r.version]));
    expect(byName.kafka).toBe('4.1.1');
    expect(byName.registry).toBe('3.3.3');
    expect(byName.clickhouse).toMatch(/^18\.16\./);
  });

  it('`up` on a running stack is a no-op: same pids, same env file', async () => {
    const before = await status();
    const env = await up();
    const after = await status();
    expect(after.map((r) => r.pid)).toEqual(before.map((r) => r.pid));
    expect(readStackEnv(stackPaths().envFile)).toEqual(env);
  });

  it('`up` hands an edited scrape config to the running Prometheus without restarting it', async () => {
    const paths = stackPaths();
    const { PROMETHEUS_URL } = readStackEnv(paths.envFile);
    const lastReload = async () => {
      const metrics = await (await fetch(`${PROMETHEUS_URL}/metrics`)).text();
      return Number(/^prometheus_config_last_reload_success_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    };
    const copy = join(paths.conf, 'prometheus', 'prometheus.yml');
    const before = await lastReload();
    const pid = (await status()).find((r) => r.name === 'prometheus')?.pid;
    writeFileSync(copy, `${readFileSync(copy, 'utf8')}\n# stale copy\n`);
    await new Promise((r) => setTimeout(r, 1_100));

    await up();
    expect(readFileSync(copy, 'utf8')).toBe(
      readFileSync(join(paths.root, 'grafana', 'prometheus.yml'), 'utf8'),
    );
    expect(await lastReload()).toBeGreaterThan(before);
    expect((await status()).find((r) => r.name === 'prometheus')?.pid).toBe(pid);
  });

  it('writes every connection setting the services read', () => {
    const env = readStackEnv(stackPaths().envFile);
    expect(env).toMatchObject({
      KAFKA_BROKERS: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      SCHEMA_REGISTRY_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/),
      CLICKHOUSE_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      REDIS_URL: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+$/),
      STRIPE_API_BASE: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      PROMETHEUS_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      PYTHON: expect.stringContaining('.stack/venv/bin/python'),
    });
  });
});
