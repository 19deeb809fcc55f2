import { join } from 'node:path';

/** Where the native stack keeps everything it owns; all of it lives under one git-ignored folder. */
export interface StackPaths {
  /** Repository root: configs that are part of the project (e.g. grafana/prometheus.yml) are read from here. */
  root: string;
  stack: string;
  /** One `<component>.pid` file per started process. */
  run: string;
  logs: string;
  data: string;
  /** Binaries the stack builds or extracts itself (stripe-mock). */
  bin: string;
  /** Generated configuration files. */
  conf: string;
  envFile: string;
}

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** STACK_DIR moves the whole stack elsewhere (with STACK_*_PORT, a second stack beside the first). */
export function stackPaths(
  root = REPO_ROOT,
  stack = process.env.STACK_DIR || join(root, '.stack'),
): StackPaths {
  return {
    root,
    stack,
    run: join(stack, 'run'),
    logs: join(stack, 'logs'),
    data: join(stack, 'data'),
    bin: join(stack, 'bin'),
    conf: join(stack, 'conf'),
    envFile: join(stack, 'env'),
  };
}
