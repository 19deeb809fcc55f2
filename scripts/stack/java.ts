import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from './apt.ts';
import type { StackContext } from './component.ts';
import { which } from './exec.ts';

/** Kafka runs on the machine's Java 17; Maven fetches the jars from Maven Central. */
export async function ensureJavaAndMaven(ctx: StackContext): Promise<void> {
  const missing = [];
  if (!which('java')) missing.push('openjdk-17-jre-headless');
  if (!which('mvn')) missing.push('maven');
  if (missing.length > 0) await aptEnsure(missing, ctx.log);
}

/** Major version from a JDK's `release` file (JAVA_VERSION="25.0.3" → 25, "1.8.0_402" → 8). */
export function javaMajor(releaseFile: string): number | undefined {
  const m = /^JAVA_VERSION="([0-9._]+)/m.exec(releaseFile);
  if (!m?.[1]) return undefined;
  const parts = m[1].split('.').map(Number);
  return parts[0] === 1 ? parts[1] : parts[0];
}

/**
 * The `java` binary of the newest JDK that is at least `minMajor`: Apicurio 3.3 is compiled for Java 21,
 * which Debian 12 does not package, so it runs on a second JDK under /usr/lib/jvm (Temurin here).
 * STACK_JAVA_HOME forces a choice.
 */
export function findJava(
  minMajor: number,
  jvmRoot = '/usr/lib/jvm',
  env: NodeJS.ProcessEnv = process.env,
): string {
  const homes = env.STACK_JAVA_HOME
    ? [env.STACK_JAVA_HOME]
    : existsSync(jvmRoot)
      ? readdirSync(jvmRoot).map((d) => join(jvmRoot, d))
      : [];
  let best: { major: number; java: string } | undefined;
  for (const home of homes) {
    const release = join(home, 'release');
    const java = join(home, 'bin', 'java');
    if (!existsSync(release) || !existsSync(java)) continue;
    const major = javaMajor(readFileSync(release, 'utf8'));
    if (major !== undefined && major >= minMajor && (!best || major > best.major)) best = { major, java };
  }
  if (!best) {
    throw new Error(
      `no Java ${minMajor}+ found under ${jvmRoot} (set STACK_JAVA_HOME to a JDK ${minMajor}+ home)`,
    );
  }
  return best.java;
}
