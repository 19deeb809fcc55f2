/**
 * A small client for the Confluent schema-registry API (Apicurio serves it at /apis/ccompat/v7): the
 * subject and compatibility calls that topology and tests need. Encoding and decoding messages is
 * @kafkajs/confluent-schema-registry's job; it has no calls for compatibility settings, hence this.
 */

export type Compatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export class RegistryError extends Error {
  constructor(
    message: string,
    /** HTTP status: 404 unknown subject/version, 409 incompatible schema, 422 invalid schema. */
    readonly status: number,
    /** The registry's own error_code (e.g. 40401 subject not found), when it sent one. */
    readonly errorCode: number | null,
  ) {
    super(message);
  }
}

export interface RegisteredSchema {
  id: number;
  version: number;
}

export interface RegistryClient {
  /** Registers `schema` under `subject`; the same schema registered again returns the same id. */
  register(subject: string, schema: string): Promise<{ id: number }>;
  /** The id and version under which `schema` is already registered in `subject`, or null. */
  lookup(subject: string, schema: string): Promise<RegisteredSchema | null>;
  /** The subject's own compatibility level, or null when it has none (the global default applies). */
  getCompatibility(subject: string): Promise<Compatibility | null>;
  setCompatibility(subject: string, level: Compatibility): Promise<void>;
  /** Whether `schema` may be registered after `version` of `subject` under the subject's level. */
  isCompatible(subject: string, schema: string, version?: number | 'latest'): Promise<boolean>;
  listSubjects(): Promise<string[]>;
  /** Deletes every version of a subject, then (permanent) its record, so the name can be reused. */
  deleteSubject(subject: string): Promise<void>;
}

export interface RegistryOptions {
  /** Per request; the registry is on the request path of every producer's first send. */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export function createRegistry(baseUrl: string, options: RegistryOptions = {}): RegistryClient {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new RegistryError(`${method} ${url}: ${(err as Error).message}`, 0, null);
    }
    const text = await res.text();
    const json = text ? (parseJson(text) as Record<string, unknown> | null) : null;
    if (!res.ok) {
      const message = typeof json?.message === 'string' ? json.message : text.slice(0, 300);
      const code = typeof json?.error_code === 'number' ? json.error_code : null;
      throw new RegistryError(`${method} ${url}: ${res.status} ${message}`, res.status, code);
    }
    return json as T;
  }

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

  return {
    async register(subject, schema) {
      const out = await call<{ id: number }>('POST', `${subjectPath(subject)}/versions`, {
        schema,
        schemaType: 'AVRO',
      });
      return { id: out.id };
    },

    async lookup(subject, schema) {
      try {
        const out = await call<RegisteredSchema>('POST', subjectPath(subject), {
          schema,
          schemaType: 'AVRO',
        });
        return { id: out.id, version: out.version };
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404) return null;
        throw err;
      }
    },

    async getCompatibility(subject) {
      try {
        const out = await call<{ compatibilityLevel?: Compatibility; compatibility?: Compatibility }>(
          'GET',
          `/config/${encodeURIComponent(subject)}`,
        );
        return out.compatibilityLevel ?? out.compatibility ?? null;
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404) return null;
        throw err;
      }
    },

    async setCompatibility(subject, level) {
      await call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    },

    async isCompatible(subject, schema, version = 'latest') {
      const out = await call<{ is_compatible: boolean }>(
        'POST',
        `/compatibility${subjectPath(subject)}/versions/${version}`,
        { schema, schemaType: 'AVRO' },
      );
      return out.is_compatible;
    },

    async listSubjects() {
      return call<string[]>('GET', '/subjects');
    },

    async deleteSubject(subject) {
      await call('DELETE', subjectPath(subject));
      await call('DELETE', `${subjectPath(subject)}?permanent=true`);
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
