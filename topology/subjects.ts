/**
 * Registers each topic's value schema under `<topic>-value` with BACKWARD compatibility, so a consumer
 * on the new schema can always read what producers on the previous one wrote.
 */
import { loadSchema } from '../schemas/index.ts';
import type { RegistryClient } from '../services/lib/registry.ts';
import type { ResolvedTopic } from './topics.ts';

export const SUBJECT_COMPATIBILITY = 'BACKWARD';

export async function ensureSubjects(
  registry: RegistryClient,
  topics: readonly ResolvedTopic[],
  options: { dryRun?: boolean } = {},
): Promise<string[]> {
  const actions: string[] = [];
  for (const topic of topics) {
    if (!topic.subject || !topic.record) continue;
    const { subject } = topic;
    // The level goes first, so that a new version is checked against it when it is registered.
    if ((await registry.getCompatibility(subject)) !== SUBJECT_COMPATIBILITY) {
      actions.push(`set ${subject} compatibility to ${SUBJECT_COMPATIBILITY}`);
      if (!options.dryRun) await registry.setCompatibility(subject, SUBJECT_COMPATIBILITY);
    }
    const schema = loadSchema(topic.record).avsc;
    if ((await registry.lookup(subject, schema)) !== null) continue;
    if (options.dryRun) actions.push(`registered ${subject} (${topic.record})`);
    else
      actions.push(
        `registered ${subject} (${topic.record}) id ${(await registry.register(subject, schema)).id}`,
      );
  }
  return actions;
}
