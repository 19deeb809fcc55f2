import { join } from 'node:path';
import type { Component, StackContext } from './component.ts';
import { COMPONENTS, componentByName } from './components/index.ts';
import { writeEnvFile } from './env-file.ts';
import { withLock } from './lock.ts';
import { type StackPaths, stackPaths } from './paths.ts';
import { portOpen, waitFor } from './probes.ts';
import { logTail, runningPid, startProcess, stopProcess } from './process-manager.ts';
import type { ComponentStatus } from './status-format.ts';
import { ensureTools } from './tools.ts';

export interface StackOptions {
  paths?: StackPaths;
  components?: readonly Component[];
  /** Installs the helper programs tests use and returns their `.stack/env` entries. */
  tools?: (ctx: StackContext) => Promise<Record<string, string>>;
  log?: (msg: string) => void;
}

function context(opts: StackOptions): { ctx: StackContext; components: readonly Component[] } {
  const ctx = {
    paths: opts.paths ?? stackPaths(),
    log: opts.log ?? logWithElapsed(Date.now()),
  };
  return { ctx, components: opts.components ?? COMPONENTS };
}

/** Progress on stderr with seconds since the command began, which is what a slow cold start needs. */
function logWithElapsed(start: number): (msg: string) => void {
  return (msg) => process.stderr.write(`stack +${((Date.now() - start) / 1000).toFixed(1)}s: ${msg}\n`);
}

const lockPath = (paths: StackPaths) => join(paths.run, 'stack.lock');

/** Starts one component unless the process the stack started earlier is alive and healthy. */
async function ensureRunning(c: Component, ctx: StackContext): Promise<void> {
  const existing = runningPid(ctx.paths, c.name);
  if (existing !== undefined) {
    try {
      // Alive but not answering: it may still be starting (another `up` began it), so give it its start time.
      await waitFor(() => c.health(ctx), {
        timeoutMs: c.startTimeoutMs,
        alive: () => runningPid(ctx.paths, c.name) !== undefined,
      });
    } catch (err) {
      ctx.log(`${c.name} (pid ${existing}) is running but unhealthy (${String(err)}); restarting it`);
      await stopProcess(ctx.paths, c.name);
    }
    if (runningPid(ctx.paths, c.name) !== undefined) {
      await c.refresh?.(ctx);
      return;
    }
  }
  if (await portOpen(c.host, c.port)) {
    throw new Error(
      `${c.name}: ${c.host}:${c.port} is already in use by a process the stack did not start; stop it or set STACK_*_PORT`,
    );
  }
  await c.prepare(ctx);
  const started = Date.now();
  const pid = startProcess(ctx.paths, c.name, c.launch(ctx));
  ctx.log(`started ${c.name} (pid ${pid}), waiting for it to be healthy`);
  try {
    await waitFor(() => c.health(ctx), {
      timeoutMs: c.startTimeoutMs,
      alive: () => runningPid(ctx.paths, c.name) !== undefined,
    });
  } catch (err) {
    await stopProcess(ctx.paths, c.name);
    throw new Error(
      `${c.name} did not become healthy: ${String(err)}\n--- .stack/logs/${c.name}.log (tail)\n${logTail(ctx.paths, c.name)}`,
    );
  }
  ctx.log(`${c.name} healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;

/** A promise that never rejects, so an install failing while `up` waits on another is not unhandled. */
function settled<T>(p: Promise<T>): Settled<T> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function rethrow<T>(p: Settled<T> | undefined, what: string): Promise<T> {
  if (!p) throw new Error(`${what}: not started`);
  const r = await p;
  if (r.ok) return r.value;
  throw new Error(`${what} failed: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
}

/**
 * Installs what is missing, starts every component that is not already running and healthy, and writes
 * `.stack/env`. On a healthy running stack it changes nothing.
 */
export async function up(opts: StackOptions = {}): Promise<Record<string, string>> {
  const { ctx, components } = context(opts);
  return withLock(lockPath(ctx.paths), async () => {
    // Downloads and builds run concurrently (a cold machine spends minutes on them); each component
    // starts as soon as its own install and everything before it are done.
    const installs = new Map(components.map((c) => [c.name, settled(c.install(ctx))]));
    const tools = settled((opts.tools ?? ensureTools)(ctx));
    const env: Record<string, string> = {};
    for (const c of components) {
      await rethrow(installs.get(c.name), `installing ${c.name}`);
      await ensureRunning(c, ctx);
      Object.assign(env, c.env);
    }
    Object.assign(env, await rethrow(tools, 'installing test tools'));
    writeEnvFile(ctx.paths.envFile, env);
    return env;
  });
}

/** Stops exactly the processes the stack started, in reverse start order. */
export async function down(opts: StackOptions = {}): Promise<string[]> {
  const { ctx, components } = context(opts);
  return withLock(lockPath(ctx.paths), async () => {
    const stopped: string[] = [];
    for (const c of [...components].reverse()) {
      const t0 = Date.now();
      if (!(await stopProcess(ctx.paths, c.name))) continue;
      stopped.push(c.name);
      ctx.log(`stopped ${c.name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return stopped;
  });
}

/** What happened to one component: when it went down and when it answered again (epoch ms). */
export interface ComponentRestart {
  name: string;
  stoppedAt: number;
  healthyAt: number;
}

/**
 * Stops one component the stack started (SIGTERM to its process group, SIGKILL after the grace), so a
 * caller can watch the rest of the system without it. False when it was not running.
 */
export async function stopComponent(name: string, opts: StackOptions = {}): Promise<boolean> {
  const { ctx } = context(opts);
  const c = componentByName(name);
  return withLock(lockPath(ctx.paths), () => stopProcess(ctx.paths, c.name));
}

/** Starts one component (already installed) unless it runs healthy; resolves once it answers. */
export async function startComponent(name: string, opts: StackOptions = {}): Promise<void> {
  const { ctx } = context(opts);
  const c = componentByName(name);
  await withLock(lockPath(ctx.paths), () => ensureRunning(c, ctx));
}

/**
 * Stops one component, keeps it down for `downMs`, starts it again and waits until it is healthy: a
 * restart as an operator (or a crashed host) does it, with its data kept.
 */
export async function restartComponent(
  name: string,
  opts: StackOptions & { downMs?: number } = {},
): Promise<ComponentRestart> {
  const stoppedAt = Date.now();
  await stopComponent(name, opts);
  if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
  await startComponent(name, opts);
  return { name, stoppedAt, healthyAt: Date.now() };
}

/** Health and self-reported version of each component, probed concurrently. */
export async function status(opts: StackOptions = {}): Promise<ComponentStatus[]> {
  const { ctx, components } = context(opts);
  return Promise.all(
    components.map(async (c): Promise<ComponentStatus> => {
      const address = `${c.host}:${c.port}`;
      const pid = runningPid(ctx.paths, c.name);
      if (pid === undefined) return { name: c.name, address, healthy: false, reason: 'not running' };
      try {
        await c.health(ctx);
        return { name: c.name, address, healthy: true, pid, version: await c.version(ctx, pid) };
      } catch (err) {
        return { name: c.name, address, healthy: false, pid, reason: `pid ${pid} unhealthy: ${String(err)}` };
      }
    }),
  );
}
