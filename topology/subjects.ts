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
    const schema = loadSchema(topic.record).avsc;
    const existing = await registry.lookup(subject, schema);
    // The level is set before registering: the new version is checked against it. A subject that does
    // not exist yet may not accept a level on every registry, so a first version goes in before it.
    let level = await registry.getCompatibility(subject);
    if (existing === null && level !== SUBJECT_COMPATIBILITY && (await subjectExists(registry, subject))) {
      actions.push(`set ${subject} compatibility to ${SUBJECT_COMPATIBILITY}`);
      if (!options.dryRun) await registry.setCompatibility(subject, SUBJECT_COMPATIBILITY);
      level = SUBJECT_COMPATIBILITY;
    }
    if (existing === null) {
      if (options.dryRun) actions.push(`would register ${subject} (${topic.record})`);
      else
        actions.push(
          `registered ${subject} (${topic.record}) id ${(await registry.register(subject, schema)).id}`,
        );
    }
    if (level !== SUBJECT_COMPATIBILITY) {
      actions.push(`set ${subject} compatibility to ${SUBJECT_COMPATIBILITY}`);
      if (!options.dryRun) await registry.setCompatibility(subject, SUBJECT_COMPATIBILITY);
    }
  }
  return actions;
}

async function subjectExists(registry: RegistryClient, subject: string): Promise<boolean> {
  return (await registry.listSubjects()).includes(subject);
}
