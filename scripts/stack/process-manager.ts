import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { LaunchSpec } from './component.ts';
import type { StackPaths } from './paths.ts';

/** What a pid file records: the start time tells a live process from a later one that reused its pid. */
export interface PidRecord {
  pid: number;
  startTime: string;
  cmd: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pidFile = (paths: StackPaths, name: string) => join(paths.run, `${name}.pid`);
export const logFile = (paths: StackPaths, name: string) => join(paths.logs, `${name}.log`);

/** Fields of /proc/<pid>/stat after the command name (which may itself contain spaces and parentheses). */
function procStat(pid: number, file = `/proc/${pid}/stat`): string[] | undefined {
  try {
    const raw = readFileSync(file, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** State is field 3 and start time field 22 of stat(5); the slice starts at field 3. */
const stateOf = (stat: string[]) => stat[0];
const pgidOf = (stat: string[]) => Number(stat[2]);
const startTimeOf = (stat: string[]) => stat[19] ?? '';

const running = (stat: string[]) => stateOf(stat) !== 'Z' && stateOf(stat) !== 'X';

/**
 * Alive = some thread of it still runs. A killed process's main thread turns zombie before its other
 * threads have exited, and those still hold its files (a listening port) until they do.
 */
function anyThreadRunning(pid: number, stat: string[]): boolean {
  if (running(stat)) return true;
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      const task = procStat(pid, `/proc/${pid}/task/${tid}/stat`);
      return task !== undefined && running(task);
    });
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && anyThreadRunning(pid, stat);
}

export function readPid(paths: StackPaths, name: string): PidRecord | undefined {
  const file = pidFile(paths, name);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return Number.isInteger(rec.pid) && rec.pid > 0 ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the component's process if it is the very process the stack started and it still runs. */
export function runningPid(paths: StackPaths, name: string): number | undefined {
  const rec = readPid(paths, name);
  if (!rec || !isAlive(rec.pid)) return undefined;
  const stat = procStat(rec.pid);
  return stat && startTimeOf(stat) === rec.startTime ? rec.pid : undefined;
}

/** Live processes in a process group, found through /proc (JVMs and servers may fork helpers). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat && pgidOf(stat) === pgid && anyThreadRunning(pid, stat)) out.push(pid);
  }
  return out;
}

/**
 * Starts a process detached in its own process group (so `stop` can signal the whole group), with
 * stdout and stderr appended to `.stack/logs/<name>.log`, and records its pid.
 */
export function startProcess(paths: StackPaths, name: string, spec: LaunchSpec): number {
  for (const dir of [paths.run, paths.logs]) mkdirSync(dir, { recursive: true });
  const log = openSync(logFile(paths, name), 'a');
  try {
    writeFileSync(log, `\n--- ${new Date().toISOString()} starting ${spec.cmd} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.cmd, spec.args, {
      cwd: spec.cwd ?? paths.root,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${name}: ${spec.cmd} not runnable`);
    const stat = procStat(pid);
    const rec: PidRecord = { pid, startTime: stat ? startTimeOf(stat) : '', cmd: spec.cmd };
    writeFileSync(pidFile(paths, name), JSON.stringify(rec));
    return pid;
  } finally {
    closeSync(log);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Stops the process group the stack started: SIGTERM, then SIGKILL after `graceMs`. Only the recorded
 * pid's group is signalled, so processes the stack did not start are never touched.
 */
export async function stopProcess(paths: StackPaths, name: string, graceMs = 15_000): Promise<boolean> {
  const pid = runningPid(paths, name);
  if (pid === undefined) {
    rmSync(pidFile(paths, name), { force: true });
    return false;
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(pid).length > 0 && Date.now() < deadline) await sleep(100);
  if (groupMembers(pid).length > 0) {
    signalGroup(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (groupMembers(pid).length > 0 && Date.now() < killDeadline) await sleep(50);
  }
  rmSync(pidFile(paths, name), { force: true });
  return true;
}

/** The last lines of a component's log, to explain a failed start. */
export function logTail(paths: StackPaths, name: string, lines = 20): string {
  const file = logFile(paths, name);
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
