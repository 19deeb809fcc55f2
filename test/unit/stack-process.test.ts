import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Component } from '../../scripts/stack/component.ts';
import { withLock } from '../../scripts/stack/lock.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { httpGet, portOpen } from '../../scripts/stack/probes.ts';
import {
  groupMembers,
  isAlive,
  logTail,
  pidFile,
  runningPid,
  startProcess,
  stopProcess,
} from '../../scripts/stack/process-manager.ts';
import { down, status, up } from '../../scripts/stack/stack.ts';

// Real processes in a throw-away .stack folder: nothing here touches the shared stack or its ports.
const tempPaths = () => stackPaths(process.cwd(), mkdtempSync(join(tmpdir(), 'stack-pm-')));
const started: { paths: ReturnType<typeof stackPaths>; name: string }[] = [];

afterEach(async () => {
  for (const { paths, name } of started.splice(0)) await stopProcess(paths, name, 1_000);
});

/** A free loopback port, found by letting the OS pick one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A component whose process is a tiny HTTP server answering `body`; exercises up/status/down end to end. */
function httpComponent(name: string, port: number, body = 'ok'): Component {
  const script = `require('http').createServer((q,s)=>s.end(${JSON.stringify(body)})).listen(${port},'127.0.0.1')`;
  return {
    name,
    host: '127.0.0.1',
    port,
    defaultPort: port,
    env: { [`${name.toUpperCase()}_URL`]: `http://127.0.0.1:${port}` },
    install: async () => {},
    prepare: async () => {},
    launch: () => ({ cmd: process.execPath, args: ['-e', script] }),
    health: async () => {
      const res = await httpGet(`http://127.0.0.1:${port}/`, {}, 500);
      if (res.body !== 'ok') throw new Error(`answered ${res.body}`);
    },
    version: async () => '1.0.0',
    startTimeoutMs: 5_000,
  };
}

const noTools = async () => ({});
const quiet = () => {};

describe('process manager', () => {
  it('starts a detached process, records it, and stops its whole process group', async () => {
    const paths = tempPaths();
    started.push({ paths, name: 'group' });
    // The shell forks a child; both must die, as a JVM's helpers must.
    const pid = startProcess(paths, 'group', {
      cmd: 'sh',
      args: ['-c', 'sleep 300 & echo child-started; wait'],
    });
    await expect.poll(() => groupMembers(pid).length).toBe(2);
    expect(runningPid(paths, 'group')).toBe(pid);
    await expect.poll(() => logTail(paths, 'group')).toContain('child-started');

    expect(await stopProcess(paths, 'group', 2_000)).toBe(true);
    expect(groupMembers(pid)).toEqual([]);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(pidFile(paths, 'group'))).toBe(false);
    expect(await stopProcess(paths, 'group')).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const paths = tempPaths();
    started.push({ paths, name: 'stubborn' });
    const pid = startProcess(paths, 'stubborn', {
      cmd: 'sh',
      args: ['-c', "trap '' TERM; echo ignoring-term; while :; do sleep 0.1; done"],
    });
    // Once the trap is set, SIGTERM cannot end it: only the escalation to SIGKILL can.
    await expect.poll(() => logTail(paths, 'stubborn')).toContain('ignoring-term');
    await stopProcess(paths, 'stubborn', 500);
    expect(groupMembers(pid)).toEqual([]);
  });

  it('counts a process as alive while a thread outlives its zombie main thread and holds its port', async () => {
    const paths = tempPaths();
    started.push({ paths, name: 'threads' });
    const port = await freePort();
    // The main thread exits on its own (pthread_exit) and turns zombie, as a killed JVM's or node's
    // does first; the other thread still holds the listening socket.
    const script = [
      'import socket, threading, time, ctypes',
      's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      `s.bind(("127.0.0.1", ${port})); s.listen()`,
      'threading.Thread(target=time.sleep, args=(300,)).start()',
      'print("listening", flush=True)',
      'ctypes.CDLL(None).pthread_exit(None)',
    ].join('\n');
    const pid = startProcess(paths, 'threads', { cmd: 'python3', args: ['-c', script] });
    await expect.poll(() => logTail(paths, 'threads')).toContain('listening');
    await expect.poll(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('Z');

    expect(await portOpen('127.0.0.1', port)).toBe(true);
    expect(isAlive(pid)).toBe(true);
    expect(groupMembers(pid)).toEqual([pid]);

    await stopProcess(paths, 'threads', 2_000);
    expect(groupMembers(pid)).toEqual([]);
    expect(await portOpen('127.0.0.1', port)).toBe(false);
  });

  it('does not trust a pid file whose process is gone or whose pid was reused', async () => {
    const paths = tempPaths();
    const pid = startProcess(paths, 'short', { cmd: 'true', args: [] });
    await expect.poll(() => isAlive(pid)).toBe(false);
    expect(runningPid(paths, 'short')).toBeUndefined();
    // Same pid as a live process (this test runner), but a different start time: not ours.
    writeFileSync(pidFile(paths, 'reused'), JSON.stringify({ pid: process.pid, startTime: '1', cmd: 'x' }));
    expect(runningPid(paths, 'reused')).toBeUndefined();
    expect(await stopProcess(paths, 'reused')).toBe(false);
    expect(isAlive(process.pid)).toBe(true);
  });
});

describe('up, status and down', () => {
  it('starts components, writes the env file, is a no-op when healthy, and stops everything', async () => {
    const paths = tempPaths();
    const components = [httpComponent('alpha', await freePort()), httpComponent('beta', await freePort())];
    const opts = { paths, components, tools: async () => ({ PYTHON: '/py' }), log: quiet };

    const env = await up(opts);
    expect(env).toEqual({
      ALPHA_URL: components[0]?.env.ALPHA_URL,
      BETA_URL: components[1]?.env.BETA_URL,
      PYTHON: '/py',
    });
    expect(readFileSync(paths.envFile, 'utf8')).toContain(
      `ALPHA_URL=http://127.0.0.1:${components[0]?.port}`,
    );
    const first = await status(opts);
    expect(first.map((r) => [r.name, r.healthy, r.version])).toEqual([
      ['alpha', true, '1.0.0'],
      ['beta', true, '1.0.0'],
    ]);

    await up(opts);
    expect((await status(opts)).map((r) => r.pid)).toEqual(first.map((r) => r.pid));

    expect(await down(opts)).toEqual(['beta', 'alpha']);
    for (const row of first) expect(groupMembers(row.pid ?? -1)).toEqual([]);
    expect((await status(opts)).map((r) => r.reason)).toEqual(['not running', 'not running']);
  });

  it('replaces a running but unhealthy process', async () => {
    const paths = tempPaths();
    const port = await freePort();
    const sick = { ...httpComponent('gamma', port, 'sick'), startTimeoutMs: 300 };
    const pid = startProcess(paths, 'gamma', sick.launch({ paths, log: quiet }));
    started.push({ paths, name: 'gamma' });
    await expect
      .poll(async () => (await httpGet(`http://127.0.0.1:${port}/`).catch(() => undefined))?.body)
      .toBe('sick');

    await up({ paths, components: [httpComponent('gamma', port)], tools: noTools, log: quiet });
    expect(isAlive(pid)).toBe(false);
    const [row] = await status({ paths, components: [httpComponent('gamma', port)] });
    expect(row).toMatchObject({ healthy: true });
    expect(row?.pid).not.toBe(pid);
  });

  it('refuses a port held by a process it did not start, and reports a start that fails with its log', async () => {
    const paths = tempPaths();
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      await expect(
        up({ paths, components: [httpComponent('delta', port)], tools: noTools, log: quiet }),
      ).rejects.toThrow(/already in use by a process the stack did not start/);
    } finally {
      blocker.close();
    }

    const crashing: Component = {
      ...httpComponent('epsilon', await freePort()),
      launch: () => ({ cmd: 'sh', args: ['-c', 'echo "fatal: bad config" >&2; exit 3'] }),
    };
    await expect(up({ paths, components: [crashing], tools: noTools, log: quiet })).rejects.toThrow(
      /fatal: bad config/,
    );
    expect(runningPid(paths, 'epsilon')).toBeUndefined();
  });
});

describe('lock', () => {
  it('runs critical sections one at a time and takes over a lock left by a dead process', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stack-lock-')), 'run', 'stack.lock');
    const order: string[] = [];
    const section = (name: string) =>
      withLock(file, async () => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}:out`);
      });
    await Promise.all([section('a'), section('b')]);
    expect(order).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);

    writeFileSync(file, '999999999');
    await expect(withLock(file, async () => 'took over', 1_000)).resolves.toBe('took over');
    expect(existsSync(file)).toBe(false);
  });
});
