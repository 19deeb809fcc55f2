import { afterAll, describe, expect, it } from 'vitest';
import { portOpen } from '../../scripts/stack/probes.ts';
import { groupMembers } from '../../scripts/stack/process-manager.ts';
import { down, status, up } from '../../scripts/stack/stack.ts';

// Stops and restarts the shared stack, so other test files must not run at the same time (the
// integration project runs files one at a time). Data survives: every component keeps it under
// .stack/data. afterAll brings the stack back even if an assertion fails half-way.
describe('native stack lifecycle', () => {
  afterAll(async () => {
    await up();
  });

  it('`down` stops every process it started; `up` brings all components back healthy', async () => {
    const before = await status();
    expect(before.every((r) => r.healthy)).toBe(true);
    const pids = before.map((r) => r.pid ?? -1);

    const stopped = await down();
    expect(stopped.sort()).toEqual(before.map((r) => r.name).sort());

    const afterDown = await status();
    for (const row of afterDown)
      expect(row, row.name).toMatchObject({ healthy: false, reason: 'not running' });
    // Whole process groups are gone (JVM children included), and nothing listens on the ports any more.
    for (const pid of pids) expect(groupMembers(pid), `group ${pid}`).toEqual([]);
    for (const row of before) {
      const [host, port] = row.address.split(':');
      expect(await portOpen(host ?? '', Number(port)), row.address).toBe(false);
    }
    expect(await down()).toEqual([]);

    await up();
    const again = await status();
    for (const row of again) expect(row, `${row.name}: ${row.reason ?? ''}`).toMatchObject({ healthy: true });
    expect(again.map((r) => r.pid)).not.toEqual(pids);
  });
});
