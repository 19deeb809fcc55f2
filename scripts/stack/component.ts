import type { StackPaths } from './paths.ts';

/** How a component's long-running process is started. */
export interface LaunchSpec {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface StackContext {
  paths: StackPaths;
  log: (msg: string) => void;
}

/**
 * One component of the native stack. Each module under components/ exports one of these; the stack
 * runs them in list order, so a component comes after everything it needs.
 */
export interface Component {
  name: string;
  host: string;
  port: number;
  /** The port without a STACK_*_PORT override: docker-compose publishes the same one. */
  defaultPort: number;
  /** KEY=value lines this component contributes to `.stack/env`. */
  env: Record<string, string>;
  /** Idempotent: fetches or builds only what is missing. */
  install(ctx: StackContext): Promise<void>;
  /** Writes config files and initialises data directories before each start. */
  prepare(ctx: StackContext): Promise<void>;
  launch(ctx: StackContext): LaunchSpec;
  /** Applies config changes to an already running, healthy instance (`up` calls it instead of restarting). */
  refresh?(ctx: StackContext): Promise<void>;
  /** Resolves when the component answers a real request; rejects with the reason otherwise. */
  health(ctx: StackContext): Promise<void>;
  /** The version reported by the running component itself. */
  version(ctx: StackContext, pid: number): Promise<string>;
  /** How long a cold start may take before `up` gives up. */
  startTimeoutMs: number;
}

/** `STACK_<NAME>_PORT` overrides a default port, so two stacks (or a stack and a stray server) can coexist. */
export function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const key = `STACK_${name}_PORT`;
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`${key}=${raw} is not a TCP port`);
  return port;
}
