import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from './apt.ts';
import type { StackContext } from './component.ts';
import { run, runOrThrow } from './exec.ts';
import type { StackPaths } from './paths.ts';

/** Programs tests start themselves: a DNS server (dnsmasq), a Kafka CLI (kcat), Python venvs, the
 * curl + jq + openssl of the API client scripts (scripts/api-flow.sh, scripts/stripe-event.sh), and
 * pdftotext (poppler-utils) that reads invoice PDFs back. */
export const APT_TOOLS = ['dnsmasq-base', 'kcat', 'python3-venv', 'jq', 'curl', 'openssl', 'poppler-utils'];

/** The Python client the cross-language test uses to read and write our Avro topics. */
export const PYTHON_REQUIREMENTS = ['confluent-kafka[avro]==2.16.1'];

export const venvPython = (p: StackPaths) => join(p.stack, 'venv', 'bin', 'python');
const marker = (p: StackPaths) => join(p.stack, 'venv', '.requirements');

/** Idempotent: the venv is rebuilt only when the requirement list changed or the venv is broken. */
async function ensureVenv(ctx: StackContext): Promise<void> {
  const python = venvPython(ctx.paths);
  const wanted = PYTHON_REQUIREMENTS.join('\n');
  if (
    existsSync(marker(ctx.paths)) &&
    (await run(python, ['-c', 'import confluent_kafka, fastavro'])).code === 0
  ) {
    if (readFileSync(marker(ctx.paths), 'utf8') === wanted) return;
  }
  ctx.log(`creating .stack/venv with ${PYTHON_REQUIREMENTS.join(' ')}`);
  await runOrThrow('python3', ['-m', 'venv', join(ctx.paths.stack, 'venv')], { timeoutMs: 120_000 });
  await runOrThrow(
    python,
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...PYTHON_REQUIREMENTS],
    {
      timeoutMs: 600_000,
    },
  );
  writeFileSync(marker(ctx.paths), wanted);
}

/** Installs the tools and returns what they add to `.stack/env`. */
export async function ensureTools(ctx: StackContext): Promise<Record<string, string>> {
  await aptEnsure(APT_TOOLS, ctx.log);
  await ensureVenv(ctx);
  return { PYTHON: venvPython(ctx.paths) };
}
