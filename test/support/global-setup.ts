import { up } from '../../scripts/stack/stack.ts';

/**
 * Integration and end-to-end tests run against the real local stack: start it (installing what is
 * missing) unless it is already running and healthy, which makes this a no-op. The stack is left running
 * afterwards so the next run starts in seconds; `npm run stack -- down` stops it.
 */
export default async function setup(): Promise<void> {
  const env = await up();
  // Real environment variables win, as in services/lib/config.ts; workers inherit what is set here.
  for (const [key, value] of Object.entries(env)) process.env[key] ??= value;
}
