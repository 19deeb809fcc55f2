import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from './process-manager.ts';

/**
 * Serialises `up` and `down`: several test runs may call `up` at the same moment. The lock file holds the
 * owner's pid, so a lock left by a crashed run is taken over instead of waited on forever.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 900_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!ownerAlive(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`stack lock ${path} still held after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function ownerAlive(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // Vanished between our open and read: the owner just released it.
    return false;
  }
  // Empty: the owner created the file and has not written its pid yet.
  if (text === '') return true;
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid);
}
