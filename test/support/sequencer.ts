import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest orders files by past duration; files named `zz-*` (the stack lifecycle test, which stops and
 * restarts the whole local stack) must run after every other file instead, and the chaos run (which
 * restarts Kafka, Redis and ClickHouse under a batch, and times its heals) after those, last of all.
 */
export default class LastFilesLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) =>
      /[\\/]chaos\.test\.ts$/.test(f.moduleId) ? 2 : /[\\/]zz-[^\\/]*$/.test(f.moduleId) ? 1 : 0;
    return [0, 1, 2].flatMap((r) => sorted.filter((f) => rank(f) === r));
  }
}
