import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest orders files by past duration; files named `zz-*` (the stack lifecycle test, which stops and
 * restarts the whole local stack) must run after every other file instead.
 */
export default class LastFilesLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => /[\\/]zz-[^\\/]*$/.test(f.moduleId);
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}
