import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { RawLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';
import { AvroCodec, frame, type SchemaSource, schemaIdOf } from '../../services/runtime/codec.ts';
import { rawLead } from '../fixtures/runtime/harness.ts';

/** A registry in a map: ids are handed out in order, a subject keeps the id of an identical schema. */
function memorySource() {
  const byId = new Map<number, string>();
  const bySubject = new Map<string, number>();
  let calls = 0;
  const source: SchemaSource = {
    async schemaById(id) {
      calls++;
      return byId.get(id);
    },
    async idForSchema(subject, avsc) {
      calls++;
      const key = `${subject}|${avsc}`;
      const hit = bySubject.get(key);
      if (hit) return hit;
      const id = byId.size + 1;
      byId.set(id, avsc);
      bySubject.set(key, id);
      return id;
    },
  };
  return { source, byId, calls: () => calls };
}

describe('Confluent wire format', () => {
  it('frames a body behind magic byte 0 and a big-endian schema id', () => {
    const out = frame(0x01020304, Buffer.from([9, 8]));
    expect([...out]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(schemaIdOf(out)).toEqual({ ok: true, id: 0x01020304 });
  });

  it('says why bytes are not a framed message', () => {
    expect(schemaIdOf(null)).toEqual({ ok: false, reason: 'empty message value (tombstone)' });
    expect(schemaIdOf(Buffer.from([0, 0, 1]))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/shorter/),
    });
    expect(schemaIdOf(Buffer.from('{"a":1}'))).toMatchObject({
      ok: false,
      reason: 'bad magic byte 123, expected 0',
    });
  });
});

describe('AvroCodec', () => {
  it('round-trips a RawLead and asks the registry once per subject and once per schema id', async () => {
    const mem = memorySource();
    const codec = new AvroCodec(mem.source);
    const encoder = await codec.encoderFor<RawLead>('p.leads.raw', 'RawLead');
    const decoder = codec.decoderFor<RawLead>('RawLead');
    const values = Array.from({ length: 100 }, (_, i) => encoder.encode(rawLead(i)));
    await decoder.prepare(values);
    await decoder.prepare(values);
    const decoded = values.map((v) => decoder.decode(v));
    expect(decoded.every((d) => d.ok)).toBe(true);
    expect(decoded[42]).toEqual({ ok: true, value: rawLead(42) });
    expect(mem.calls()).toBe(2);
  });

  it('reads an older writer schema into the current reader with defaults (schema evolution)', async () => {
    const mem = memorySource();
    const codec = new AvroCodec(mem.source);
    const old = avro.Type.forSchema({
      type: 'record',
      name: 'RawLead',
      namespace: 'io.leedrush',
      fields: [
        { name: 'account_id', type: 'string' },
        { name: 'received_at', type: 'long' },
        { name: 'email', type: ['null', 'string'], default: null },
      ],
    });
    const id = await mem.source.idForSchema('old', JSON.stringify(old.schema()));
    const bytes = frame(id, old.toBuffer({ account_id: 'a1', received_at: 5, email: 'x@y.z' }));
    const decoder = codec.decoderFor<RawLead>('RawLead');
    await decoder.prepare([bytes]);
    const d = decoder.decode(bytes);
    expect(d.ok && d.value).toMatchObject({
      account_id: 'a1',
      email: 'x@y.z',
      source: 'kafka',
      batch_id: null,
      extras: {},
    });
  });

  it('turns every kind of bad input into a reason, never a throw', async () => {
    const mem = memorySource();
    const codec = new AvroCodec(mem.source);
    const encoder = await codec.encoderFor<RawLead>('t', 'RawLead');
    const good = encoder.encode(rawLead(1));
    const unrelated = avro.Type.forSchema({
      type: 'record',
      name: 'Other',
      fields: [{ name: 'n', type: 'int' }],
    });
    const otherId = await mem.source.idForSchema('other', JSON.stringify(unrelated.schema()));
    const cases: [Buffer | null, RegExp][] = [
      [null, /tombstone/],
      [Buffer.from([1, 0, 0, 0, 1, 2]), /bad magic byte 1/],
      [frame(999, Buffer.from([2])), /unknown schema id 999/],
      [good.subarray(0, good.length - 3), /undecodable RawLead body \(schema id 1\)/],
      [Buffer.concat([good, Buffer.from([7])]), /undecodable RawLead/],
      [frame(otherId, unrelated.toBuffer({ n: 1 })), /cannot be read as RawLead/],
    ];
    const decoder = codec.decoderFor<RawLead>('RawLead');
    await decoder.prepare(cases.map(([b]) => b));
    for (const [bytes, reason] of cases) {
      const d = decoder.decode(bytes);
      expect(d.ok).toBe(false);
      expect(!d.ok && d.reason).toMatch(reason);
    }
  });

  it('lets registry outages surface from prepare (transient) instead of marking messages undecodable', async () => {
    const codec = new AvroCodec({
      schemaById: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      idForSchema: async () => 1,
    });
    const decoder = codec.decoderFor<RawLead>('RawLead');
    await expect(decoder.prepare([frame(5, Buffer.from([0]))])).rejects.toThrow(/ECONNREFUSED/);
    expect(decoder.decode(frame(5, Buffer.from([0])))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not prepared/),
    });
  });

  it('encodes thousands of values across buffer boundaries, and values larger than a buffer, intact', async () => {
    const codec = new AvroCodec(memorySource().source);
    const encoder = await codec.encoderFor<RawLead>('t', 'RawLead');
    const decoder = codec.decoderFor<RawLead>('RawLead');
    const leads = Array.from({ length: 3_000 }, (_, i) => rawLead(i, {}, (i * 37) % 2_000));
    leads.push(rawLead(3_000, {}, 3 << 20));
    const encoded = leads.map((l) => encoder.encode(l));
    await decoder.prepare(encoded);
    encoded.forEach((bytes, i) => {
      expect(decoder.decode(bytes)).toEqual({ ok: true, value: leads[i] });
    });
  });

  it('names the invalid fields when a value does not match the schema', async () => {
    const codec = new AvroCodec(memorySource().source);
    const encoder = await codec.encoderFor<unknown>('t', 'RawLead');
    expect(() => encoder.encode({ ...rawLead(1), account_id: 42 })).toThrow(
      /cannot encode RawLead: invalid account_id/,
    );
  });

  it('registers the self-contained schema of schemas/ under <topic>-value', async () => {
    const mem = memorySource();
    await new AvroCodec(mem.source).encoderFor('pfx.leads.standardized', 'StandardizedLead');
    expect(mem.byId.get(1)).toBe(loadSchema('StandardizedLead').avsc);
  });
});
