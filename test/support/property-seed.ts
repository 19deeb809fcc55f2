import fc from 'fast-check';

/**
 * Property tests explore new random cases on every developer run (a failure prints its seed). CI runs
 * one fixed seed, so a merge is judged on reproducible cases; FC_SEED=<n> replays any seed locally.
 */
const seed = process.env.FC_SEED ?? (process.env.CI ? '20261128' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
