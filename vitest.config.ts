import { defineConfig } from 'vitest/config';
import LastFilesLast from './test/support/sequencer.ts';

// Two projects: unit tests need nothing running; integration and end-to-end tests use the real local
// stack (started by the global setup if it is not up). The machine has 2 cores, so integration files
// run one at a time.
export default defineConfig({
  test: {
    sequence: { sequencer: LastFilesLast },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/property-seed.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/property-seed.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
