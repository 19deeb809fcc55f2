/**
 * npm run bench:runtime — throughput of the shared runtime: 200,000 RawLeads of ~1 KB, already on the
 * input topic, through the pass-through phase running as its own process (consume, decode, phase,
 * encode, produce with acks=all, commit). Each run starts the service from the earliest offset and stops
 * the clock when every input offset is committed. Each round runs it twice, back to back: with kafkajs
 * (the runtime) and with @platformatic/kafka (bench/lib/platformatic-passthrough.ts, the same work with
 * the other client), each with its own consumer group. Prints records/s, records per CPU-second and peak
 * RSS per client (medians of the runs) and the median platformatic ÷ kafkajs ratio, and writes
 * .bench/runtime.json (kafkajs' figures where they always were, the other client's under `alternative`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../services/lib/config.ts';
import { groupId } from '../services/lib/names.ts';
import {
  type Isolated,
  isolatedTopics,
  PASSTHROUGH,
  produceRawLeads,
  rawLead,
  startPassthrough,
  topicSize,
  waitFor,
} from '../test/fixtures/runtime/harness.ts';

/** The same pass-through with @platformatic/kafka as the Kafka client (bench/lib/platformatic-passthrough.ts). */
const PLATFORMATIC = join(REPO_ROOT, 'bench', 'lib', 'platformatic-passthrough.ts');

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

interface Run {
  recordsPerSecond: number;
  seconds: number;
  recordsPerCpuSecond: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Records the run added to the output topic (by offsets): proof it did all the work. */
  outputRecords: number;
  loadAverage: number;
}

const versionOf = (pkg: string): string =>
  (
    JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/**
 * One client's pass-through over every input record: from the earliest offset (its group is reset after
 * its first run), timed from its ready line until every input offset is committed.
 */
async function measure(iso: Isolated, group: string, script: string): Promise<Run> {
  const committed = async () => {
    const [t] = await iso.admin.fetchOffsets({ groupId: group, topics: [iso.topics.raw] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  };
  if ((await committed()) > 0)
    await iso.admin.resetOffsets({ groupId: group, topic: iso.topics.raw, earliest: true });
  const outputBefore = await topicSize(iso.admin, iso.topics.standardized);
  const child = await startPassthrough(iso, { LOG_LEVEL: 'warn', PASSTHROUGH_GROUP: group }, script);
  const pid = child.proc.pid as number;
  const start = performance.now();
  const cpuAtStart = cpuSeconds(pid);
  // A child that dies mid-run fails the bench at once instead of after the wait's timeout.
  const died = child.exited.then((code) => {
    throw new Error(`service exited ${code} before committing every record:\n${child.output()}`);
  });
  await Promise.race([
    waitFor('every record committed', async () => (await committed()) >= RECORDS, 600_000, 50),
    died,
  ]);
  died.catch(() => {}); // it rejects on the normal exit below too
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(pid) - cpuAtStart;
  const rss = peakRssMb(pid);
  child.proc.kill('SIGTERM');
  const code = await child.exited;
  if (code !== 0) throw new Error(`service exited ${code}:\n${child.output()}`);
  // Offsets are committed only after the produce was acknowledged, so the output is complete by now.
  const outputRecords = (await topicSize(iso.admin, iso.topics.standardized)) - outputBefore;
  if (outputRecords < RECORDS)
    throw new Error(
      `${script} committed every input but produced only ${outputRecords} of ${RECORDS} records`,
    );
  return {
    recordsPerSecond: Math.round(RECORDS / seconds),
    seconds: Number(seconds.toFixed(2)),
    // Throughput per CPU-second of the service: what it would do with a core to itself.
    recordsPerCpuSecond: Math.round(RECORDS / cpu),
    cpuSeconds: Number(cpu.toFixed(2)),
    peakRssMb: rss,
    outputRecords,
    loadAverage: Number(loadavg()[0]?.toFixed(1)),
  };
}

async function main(): Promise<void> {
  const iso = await isolatedTopics('bench');
  const prefix = iso.config.LEEDRUSH_PREFIX;
  try {
    const encodedBytes = (await iso.codec.encoderFor(iso.topics.raw, 'RawLead')).encode(
      rawLead(0, {}, EXTRAS_BYTES),
    ).length;
    const t0 = performance.now();
    await produceRawLeads(iso, RECORDS, (i) => rawLead(i, {}, EXTRAS_BYTES));
    console.log(
      `produced ${RECORDS} records of ${encodedBytes} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const clients = [
      { name: 'kafkajs', group: groupId(prefix, 'passthrough'), script: PASSTHROUGH },
      {
        name: '@platformatic/kafka',
        group: groupId(prefix, 'passthrough-platformatic'),
        script: PLATFORMATIC,
      },
    ];
    const runs: Run[][] = clients.map(() => []);
    for (let run = 1; run <= RUNS; run++) {
      // Back to back in each round, so both clients see the same machine load.
      for (const [i, client] of clients.entries()) {
        const r = await measure(iso, client.group, client.script);
        runs[i]?.push(r);
        console.log(
          `run ${run} ${client.name}: ${r.recordsPerSecond} records/s (${r.seconds} s), service CPU ${r.cpuSeconds.toFixed(2)} s = ${r.recordsPerCpuSecond} records/CPU-s, peak RSS ${r.peakRssMb} MB, ${r.outputRecords} records out, load ${r.loadAverage}`,
        );
      }
    }
    const [kafkajs = [], platformatic = []] = runs;
    const summary = (rs: Run[]) => ({
      medianRecordsPerSecond: median(rs.map((r) => r.recordsPerSecond)),
      medianRecordsPerCpuSecond: median(rs.map((r) => r.recordsPerCpuSecond)),
      peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
    });
    // Ratios per round (same load), then their median.
    const ratio = (field: 'recordsPerSecond' | 'recordsPerCpuSecond') =>
      Number(median(kafkajs.map((k, i) => (platformatic[i]?.[field] ?? Number.NaN) / k[field])).toFixed(2));
    const result = {
      benchmark: 'runtime pass-through (child process, acks=all, commit after ack)',
      records: RECORDS,
      recordBytes: encodedBytes,
      partitions: 6,
      // The top-level figures are kafkajs' (the runtime's client), as before; `alternative` is the other client.
      client: `kafkajs ${versionOf('kafkajs')}`,
      runs: kafkajs,
      ...summary(kafkajs),
      alternative: {
        client: `@platformatic/kafka ${versionOf('@platformatic/kafka')}`,
        runs: platformatic,
        ...summary(platformatic),
      },
      ratio: {
        recordsPerSecond: ratio('recordsPerSecond'),
        recordsPerCpuSecond: ratio('recordsPerCpuSecond'),
      },
      cpus: cpus().length,
      loadAverage: loadavg()[0],
      measuredAt: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'runtime.json'), `${JSON.stringify(result, null, 2)}\n`);
    const row = (name: string, x: ReturnType<typeof summary>) =>
      `${name.padEnd(24)}${String(x.medianRecordsPerSecond).padStart(12)}${String(x.medianRecordsPerCpuSecond).padStart(16)}${String(x.peakRssMb).padStart(14)}`;
    console.log(
      `\n${'client (median)'.padEnd(24)}${'records/s'.padStart(12)}${'records/CPU-s'.padStart(16)}${'peak RSS MB'.padStart(14)}`,
    );
    console.log(row(result.client, result));
    console.log(row(result.alternative.client, result.alternative));
    console.log(
      `${'platformatic ÷ kafkajs'.padEnd(24)}${`${result.ratio.recordsPerSecond}×`.padStart(12)}${`${result.ratio.recordsPerCpuSecond}×`.padStart(16)}`,
    );
    console.log('→ .bench/runtime.json');
  } finally {
    await iso.close();
  }
}

await main();
