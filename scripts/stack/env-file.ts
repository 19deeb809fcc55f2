import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** KEY=value lines in a stable order, the format services/lib/config.ts reads back. */
export function renderEnv(vars: Record<string, string>): string {
  const lines = Object.entries(vars).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`invalid env key ${key}`);
    if (/[\r\n]/.test(value)) throw new Error(`env value of ${key} spans lines`);
    return `${key}=${value}`;
  });
  return `# written by \`npm run stack -- up\`; real environment variables override these\n${lines.join('\n')}\n`;
}

/** Written to a temp file and renamed, so a reader never sees half a file. */
export function writeEnvFile(path: string, vars: Record<string, string>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, renderEnv(vars));
  renameSync(tmp, path);
}
