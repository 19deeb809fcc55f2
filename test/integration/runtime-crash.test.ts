import { afterEach, describe, expect, it } from 'vitest';
import type { StandardizedLead } from '../../schemas/generated.ts';
import { groupId } from '../../services/lib/names.ts';
import {
  type Child,
  type Isolated,
  isolatedTopics,
  produceRawLeads,
  readTopic,
  startPassthrough,
  topicSize,
  waitFor,
} from '../fixtures/runtime/harness.ts';

const N = 50_000;
// Small fetches (~1,000 records per partition batch) so a crash can only lose a little work, and a short
// session so the group forgets the killed member quickly.
const TUNING = {
  PASSTHROUGH_MAX_BYTES_PER_PARTITION: String(256 * 1024),
  PASSTHROUGH_SESSION_TIMEOUT_MS: '8000',
};

let iso: Isolated | undefined;
const children: Child[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
  await iso?.close();
});

async function committed(i: Isolated): Promise<number> {
  const [offsets] = await i.admin.fetchOffsets({
    groupId: groupId(i.config.LEEDRUSH_PREFIX, 'passthrough'),
    topics: [i.topics.raw],
  });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Starts the service, waits until about half of the records reached the output, then signals it. */
async function interruptHalfway(i: Isolated, signal: NodeJS.Signals): Promise<number | null> {
  const first = await startPassthrough(i, TUNING);
  children.push(first);
  await produceRawLeads(i, N);
  await waitFor(
    'half of the output',
    async () => (await topicSize(i.admin, i.topics.standardized)) >= N / 2,
    60_000,
    20,
  );
  first.proc.kill(signal);
  return first.exited;
}

function countIds(read: { value: StandardizedLead | undefined }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of read) {
    const id = r.value?.meta.lead_id ?? 'undecodable';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('runtime crash and shutdown (50,000 records, child process)', () => {
  it('loses nothing when SIGKILLed halfway and resumes from the committed offsets', async () => {
    iso = await isolatedTopics('kill');
    expect(await interruptHalfway(iso, 'SIGKILL')).toBe(null);
    const beforeRestart = await topicSize(iso.admin, iso.topics.standardized);
    const committedAtKill = await committed(iso);
    expect(committedAtKill).toBeGreaterThan(0);
    expect(committedAtKill).toBeLessThanOrEqual(beforeRestart);

    children.push(await startPassthrough(iso, TUNING));
    await waitFor('every input committed', async () => (await committed(iso as Isolated)) === N, 90_000);
    const total = await topicSize(iso.admin, iso.topics.standardized);
    const read = await readTopic<StandardizedLead>(iso, iso.topics.standardized, 'StandardizedLead', total);
    const counts = countIds(read);
    expect(counts.size).toBe(N);
    expect(counts.has('undecodable')).toBe(false);
    const duplicates = total - N;
    // Only what was produced but not yet committed at the kill comes again, not the ~25,000 already done.
    expect(duplicates).toBe(beforeRestart - committedAtKill);
    expect(duplicates).toBeLessThan(10_000);
    console.info(
      `SIGKILL at ${beforeRestart} outputs, ${committedAtKill} committed: ${duplicates} duplicates`,
    );
  });

  it('drains and commits on SIGTERM, exits 0, and never produces a record twice after restart', async () => {
    iso = await isolatedTopics('term');
    expect(await interruptHalfway(iso, 'SIGTERM')).toBe(0);
    const atExit = await topicSize(iso.admin, iso.topics.standardized);
    expect(await committed(iso)).toBe(atExit);
    expect(atExit).toBeLessThan(N);

    children.push(await startPassthrough(iso, TUNING));
    await waitFor('every input committed', async () => (await committed(iso as Isolated)) === N, 90_000);
    const read = await readTopic<StandardizedLead>(iso, iso.topics.standardized, 'StandardizedLead', N);
    expect(read).toHaveLength(N);
    expect(await topicSize(iso.admin, iso.topics.standardized)).toBe(N);
    expect(countIds(read).size).toBe(N);
  });
});
