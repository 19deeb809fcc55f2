import avro from 'avsc';
import { loadSchema, type RecordName } from '../../schemas/index.ts';
import { valueSubject } from '../lib/names.ts';

/**
 * Confluent wire format: magic byte 0, the writer schema id as a 4-byte big-endian integer, then the
 * Avro binary body. Any Kafka client with a schema registry serializer reads and writes it.
 */
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Where writer schemas come from (the registry in services; a map in unit tests). */
export interface SchemaSource {
  /** The schema text registered under `id`, or undefined when the registry does not know the id. */
  schemaById(id: number): Promise<string | undefined>;
  /** The id of `avsc` under `subject`, registering it when the subject does not hold it yet. */
  idForSchema(subject: string, avsc: string): Promise<number>;
}

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, WIRE_HEADER_BYTES);
  return out;
}

/** The writer schema id of a framed message, or why the bytes are not a framed message. */
export function schemaIdOf(buf: Buffer | null): { ok: true; id: number } | { ok: false; reason: string } {
  if (buf === null) return { ok: false, reason: 'empty message value (tombstone)' };
  if (buf.length < WIRE_HEADER_BYTES)
    return { ok: false, reason: `message of ${buf.length} bytes is shorter than the wire header` };
  if (buf[0] !== MAGIC_BYTE) return { ok: false, reason: `bad magic byte ${buf[0]}, expected ${MAGIC_BYTE}` };
  return { ok: true, id: buf.readUInt32BE(1) };
}

export interface Encoder<T> {
  readonly schemaId: number;
  /** Throws when the value does not match the schema; the message lists the offending paths. */
  encode(value: T): Buffer;
}

/** How one writer schema id reads into the reader type: computed once per id, then reused. */
type Reading = { ok: true; resolver: avro.Resolver | undefined } | { ok: false; reason: string };

export class Decoder<T> {
  private readonly readings = new Map<number, Reading>();

  constructor(
    private readonly source: SchemaSource,
    readonly record: RecordName,
    private readonly reader: avro.Type = loadSchema(record).type,
  ) {}

  /**
   * Fetches the writer schemas of ids not seen yet, so that `decode` stays synchronous on the hot path.
   * Throws on registry failures (transient: the caller retries); an id the registry does not know is
   * remembered as undecodable.
   */
  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    const missing = new Set<number>();
    for (const v of values) {
      const id = schemaIdOf(v);
      if (id.ok && !this.readings.has(id.id)) missing.add(id.id);
    }
    await Promise.all([...missing].map(async (id) => this.readings.set(id, await this.readingFor(id))));
  }

  private async readingFor(id: number): Promise<Reading> {
    const text = await this.source.schemaById(id);
    if (text === undefined) return { ok: false, reason: `unknown schema id ${id}` };
    try {
      const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
      if (writer.fingerprint().equals(this.reader.fingerprint())) return { ok: true, resolver: undefined };
      return { ok: true, resolver: this.reader.createResolver(writer) };
    } catch (err) {
      return {
        ok: false,
        reason: `schema id ${id} cannot be read as ${this.record}: ${(err as Error).message}`,
      };
    }
  }

  /** Synchronous once `prepare` saw the value's schema id. */
  decode(value: Buffer | null): Decoded<T> {
    const id = schemaIdOf(value);
    if (!id.ok) return id;
    const reading = this.readings.get(id.id);
    if (reading === undefined) return { ok: false, reason: `schema id ${id.id} was not prepared` };
    if (!reading.ok) return reading;
    try {
      const body = (value as Buffer).subarray(WIRE_HEADER_BYTES);
      return { ok: true, value: this.reader.fromBuffer(body, reading.resolver) as T };
    } catch (err) {
      return {
        ok: false,
        reason: `undecodable ${this.record} body (schema id ${id.id}): ${(err as Error).message}`,
      };
    }
  }
}

const SLAB_BYTES = 1 << 20;

/**
 * Encodes framed messages back to back into a large buffer and hands out views of it: no allocation and
 * no copy per message (the producer copies the bytes into its request anyway). A slab is released when
 * the last message viewing it has been sent and collected.
 */
class Slab {
  private buf = Buffer.allocUnsafe(SLAB_BYTES);
  private pos = 0;

  write(schemaId: number, type: avro.Type, value: unknown): Buffer {
    if (this.buf.length - this.pos < WIRE_HEADER_BYTES + 1) this.renew();
    let end = this.frameAt(schemaId, type, value);
    if (end < 0) {
      // Did not fit in what is left: a fresh slab, or for a value larger than a slab its own buffer.
      if (this.pos === 0 || WIRE_HEADER_BYTES - end > SLAB_BYTES)
        return frame(schemaId, type.toBuffer(value));
      this.renew();
      end = this.frameAt(schemaId, type, value);
      if (end < 0) return frame(schemaId, type.toBuffer(value));
    }
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  private frameAt(schemaId: number, type: avro.Type, value: unknown): number {
    this.buf[this.pos] = MAGIC_BYTE;
    this.buf.writeUInt32BE(schemaId, this.pos + 1);
    return type.encode(value, this.buf, this.pos + WIRE_HEADER_BYTES);
  }

  private renew(): void {
    this.buf = Buffer.allocUnsafe(SLAB_BYTES);
    this.pos = 0;
  }
}

/** Encoders and decoders of the topic-value schemas in schemas/, all sharing one registry client. */
export class AvroCodec {
  constructor(private readonly source: SchemaSource) {}

  /** Looks up (or registers) the schema under `<topic>-value` once; encoding is then local. */
  async encoderFor<T>(topic: string, record: RecordName): Promise<Encoder<T>> {
    const { type, avsc } = loadSchema(record);
    const schemaId = await this.source.idForSchema(valueSubject(topic), avsc);
    const slab = new Slab();
    return {
      schemaId,
      encode(value: T): Buffer {
        try {
          return slab.write(schemaId, type, value);
        } catch (err) {
          const paths: string[] = [];
          type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
          throw new Error(
            `cannot encode ${record}: ${paths.length ? `invalid ${paths.join(', ')}` : (err as Error).message}`,
          );
        }
      },
    };
  }

  decoderFor<T>(record: RecordName): Decoder<T> {
    return new Decoder<T>(this.source, record);
  }
}
