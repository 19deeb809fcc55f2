import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { UploadFormatError } from '../ingest/reader/index.ts';
import { CSV_COLUMNS, csvRow, leadObject, neutralizeCell } from '../lib/lead-object.ts';
import { defaultProfile } from '../score/profile.ts';
import { InputFileError, type PipelineResult, runPipeline } from './pipeline.ts';
import { createProgress } from './progress.ts';
import { embeddedSettings } from './settings.ts';
import { summarize, summaryLines } from './summary.ts';

const USAGE = `Usage: leedrush run <file> [--out FILE] [--format csv|json] [--include all] [--sandbox]

Runs the whole pipeline (ingest, standardize, verify, enrich, dedupe, score) on a CSV, JSON or NDJSON
lead file in this process: no Kafka, ClickHouse or Redis.

Options:
  --out FILE        where to write the leads (default: qualified.csv or qualified.json)
  --format FORMAT   csv (default) or json (an array of lead objects)
  --include all     every scored lead with its status, not only the QUALIFIED ones
  --sandbox         enrich from the provider sandbox started in this process: invented, deterministic
                    data for tests and benchmarks, every value labelled sandbox:<provider>
                    (ENRICH_SANDBOX=1 does the same)
  -h, --help        this help

Enrichment: the providers whose keys are set (APOLLO_API_KEY, CLEARBIT_API_KEY, HUNTER_API_KEY,
SNOV_CLIENT_ID + SNOV_CLIENT_SECRET); without any, no provider is asked and leads are scored on their
own values and DNS technographics. Every enriched value names its source (input, dns, the provider,
or sandbox:<provider>), and every score its evidence coverage and missing inputs.

Environment: DNS_SERVERS (default: the system resolvers), DNS_TIMEOUT_MS (default 1500), DNS_CANARY
(a name the resolvers must answer, default com), EMBEDDED_CONCURRENCY (default 32), and the enrich
service's ENRICH_* settings.
Exit codes: 0 done, 1 the file cannot be read, 2 bad usage.
`;

class UsageError extends Error {}

interface RunArgs {
  file: string;
  out: string;
  format: 'csv' | 'json';
  includeAll: boolean;
  sandbox: boolean;
}

function parseRun(argv: string[]): RunArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      include: { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const [command, file, ...extra] = positionals;
  if (command !== 'run') throw new UsageError(command ? `unknown command: ${command}` : 'missing command');
  if (!file) throw new UsageError('missing the file to run');
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  const format = values.format;
  if (format !== 'csv' && format !== 'json')
    throw new UsageError(`--format must be csv or json, not ${format}`);
  if (values.include !== undefined && values.include !== 'all')
    throw new UsageError(`--include takes only "all", not ${values.include}`);
  return {
    file,
    out: values.out ?? `qualified.${format}`,
    format,
    includeAll: values.include === 'all',
    sandbox: values.sandbox === true,
  };
}

function render(result: PipelineResult, args: RunArgs): string {
  const objects = result.leads
    .filter((l) => args.includeAll || l.score.status === 'QUALIFIED')
    .map(leadObject);
  if (args.format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  const rows = objects.map((o) => {
    const row = csvRow(o);
    return CSV_COLUMNS.map((c) => neutralizeCell(row[c]));
  });
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS] });
}

/** The CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: RunArgs | 'help';
  try {
    args = parseRun(argv);
  } catch (err) {
    process.stderr.write(`leedrush: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const settings = embeddedSettings();
  const started = performance.now();
  const progress = createProgress(process.stderr);
  let result: PipelineResult;
  try {
    result = await runPipeline(args.file, {
      settings,
      profile: defaultProfile(),
      sandbox: args.sandbox,
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (err) {
    progress.stop();
    if (err instanceof InputFileError) process.stderr.write(`leedrush: ${err.message}\n`);
    else if (err instanceof UploadFormatError)
      process.stderr.write(`leedrush: cannot read ${args.file} (${err.code}): ${err.detail}\n`);
    else throw err;
    return 1;
  }
  progress.stop();
  await writeFile(args.out, render(result, args));
  const summary = summarize(result, performance.now() - started);
  process.stderr.write(`${summaryLines(summary, { result, out: args.out }).join('\n')}\n`);
  return 0;
}
