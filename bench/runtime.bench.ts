/**
 * npm run bench:runtime — throughput of the shared runtime: 200,000 RawLeads of ~1 KB, already on the
 * input topic, through the pass-through phase running as its own process (consume, decode, phase,
 * encode, produce with acks=all, commit). Each run starts the service from the earliest offset and stops
 * the clock when every input offset is committed. Prints records/s (median of the runs) and the
 * service's peak RSS, and writes .bench/runtime.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../services/lib/config.ts';
import { groupId } from '../services/lib/names.ts';
import {
  isolatedTopics,
  produceRawLeads,
  rawLead,
  startPassthrough,
  waitFor,
} from '../test/fixtures/runtime/harness.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EXTRAS_BYTES = 824; // brings an encoded RawLead to 1 KB

/** Peak resident set size of a process, from the kernel's high-water mark. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const iso = await isolatedTopics('bench');
  const group = groupId(iso.config.LEEDRUSH_PREFIX, 'passthrough');
  const committed = async () => {
    const [t] = await iso.admin.fetchOffsets({ groupId: group, topics: [iso.topics.raw] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  };
  try {
    const encodedBytes = (await iso.codec.encoderFor(iso.topics.raw, 'RawLead')).encode(
      rawLead(0, {}, EXTRAS_BYTES),
    ).length;
    const t0 = performance.now();
    await produceRawLeads(iso, RECORDS, (i) => rawLead(i, {}, EXTRAS_BYTES));
    console.log(
      `produced ${RECORDS} records of ${encodedBytes} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const runs: {
      recordsPerSecond: number;
      seconds: number;
      recordsPerCpuSecond: number;
      cpuSeconds: number;
      peakRssMb: number;
    }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      if (run > 1) await iso.admin.resetOffsets({ groupId: group, topic: iso.topics.raw, earliest: true });
      const child = await startPassthrough(iso, { LOG_LEVEL: 'warn' });
      const pid = child.proc.pid as number;
      const start = performance.now();
      const cpuAtStart = cpuSeconds(pid);
      await waitFor('every record committed', async () => (await committed()) >= RECORDS, 600_000, 50);
      const seconds = (performance.now() - start) / 1000;
      const cpu = cpuSeconds(pid) - cpuAtStart;
      const rss = peakRssMb(pid);
      child.proc.kill('SIGTERM');
      const code = await child.exited;
      if (code !== 0) throw new Error(`service exited ${code}:\n${child.output()}`);
      runs.push({
        recordsPerSecond: Math.round(RECORDS / seconds),
        seconds: Number(seconds.toFixed(2)),
        // Throughput per CPU-second of the service: what it would do with a core to itself.
        recordsPerCpuSecond: Math.round(RECORDS / cpu),
        cpuSeconds: cpu,
        peakRssMb: rss,
      });
      console.log(
        `run ${run}: ${Math.round(RECORDS / seconds)} records/s (${seconds.toFixed(2)} s), service CPU ${cpu.toFixed(2)} s = ${Math.round(RECORDS / cpu)} records/CPU-s, peak RSS ${rss} MB, load ${loadavg()[0]?.toFixed(1)}`,
      );
    }
    const result = {
      benchmark: 'runtime pass-through (child process, acks=all, commit after ack)',
      records: RECORDS,
      recordBytes: encodedBytes,
      partitions: 6,
      runs,
      medianRecordsPerSecond: median(runs.map((r) => r.recordsPerSecond)),
      medianRecordsPerCpuSecond: median(runs.map((r) => r.recordsPerCpuSecond)),
      cpus: cpus().length,
      loadAverage: loadavg()[0],
      peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      measuredAt: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'runtime.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `median ${result.medianRecordsPerSecond} records/s, peak RSS ${result.peakRssMb} MB → .bench/runtime.json`,
    );
  } finally {
    await iso.close();
  }
}

await main();
