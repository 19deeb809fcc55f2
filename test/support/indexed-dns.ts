import { createSocket } from 'node:dgram';
import type { DnsServer, DnsZone } from './dns-server.ts';

/**
 * A DNS server on loopback for the bench's large zones: the records of a DnsZone in a map, answered the
 * way dnsmasq answers them (test/support/dns-server.ts, checked against it in
 * test/integration/indexed-dns.test.ts). dnsmasq walks its whole list of MX and TXT records for every
 * query, which makes a 100,000-lead upload's 12,500 domains cost 186 µs a query, and a file ten times
 * larger a hundred times more; here a query costs the same whatever the zone's size.
 *
 * What dnsmasq does with this configuration: a name's configured records answer their type (and ANY);
 * another type of a name inside the zone is NODATA, a name inside the zone without records NXDOMAIN,
 * and any name outside it without a record of that type REFUSED (there is no upstream). Slow domains
 * are never answered. Only what a stub resolver sends is understood: one question, no compression.
 */
const TYPE = { A: 1, MX: 15, TXT: 16, ANY: 255 } as const;
const TYPE_NAMES = new Map<number, string>([
  [1, 'A'],
  [15, 'MX'],
  [16, 'TXT'],
  [28, 'AAAA'],
  [255, 'ANY'],
]);
const RCODE = { NOERROR: 0, NXDOMAIN: 3, REFUSED: 5 } as const;

/** One resource record's type and RDATA. */
type Record = { type: number; data: Buffer };

export async function startIndexedDnsServer(zone: DnsZone): Promise<DnsServer> {
  const records = zoneRecords(zone);
  const slow = new Set((zone.slow ?? []).map((d) => d.toLowerCase()));
  const suffix = `.${zone.zone.toLowerCase()}`;
  const inZone = (name: string) => name === zone.zone.toLowerCase() || name.endsWith(suffix);
  const counts = new Map<string, number>();
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (!question) return;
    const { name, type } = question;
    const key = `${name} ${TYPE_NAMES.get(type) ?? String(type)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (slow.has(name) || [...slow].some((d) => name.endsWith(`.${d}`))) return;
    const all = records.get(name) ?? [];
    const answers = type === TYPE.ANY ? all : all.filter((r) => r.type === type);
    let rcode: number = RCODE.NOERROR;
    if (answers.length === 0 && !inZone(name)) rcode = RCODE.REFUSED;
    else if (answers.length === 0 && all.length === 0) rcode = RCODE.NXDOMAIN;
    socket.send(reply(query, question.end, rcode, answers, zone.ttlS), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    port,
    address: `127.0.0.1:${port}`,
    queries: async (name, type) => {
      let n = 0;
      for (const [key, count] of counts) {
        const [qname, qtype] = key.split(' ');
        if ((name === undefined || qname === name) && (type === undefined || qtype === type)) n += count;
      }
      return n;
    },
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function zoneRecords(zone: DnsZone): Map<string, Record[]> {
  const out = new Map<string, Record[]>();
  const add = (name: string, record: Record) => {
    const key = name.toLowerCase();
    const list = out.get(key);
    if (list) list.push(record);
    else out.set(key, [record]);
  };
  for (const m of zone.mx ?? []) add(m.domain, { type: TYPE.MX, data: mxData(m.preference, m.host) });
  // Null MX (RFC 7505): preference 0, the root as exchange.
  for (const d of zone.nullMx ?? []) add(d, { type: TYPE.MX, data: mxData(0, '') });
  for (const a of zone.a ?? [])
    add(a.name, { type: TYPE.A, data: Buffer.from(a.address.split('.').map(Number)) });
  for (const t of zone.txt ?? []) add(t.name, { type: TYPE.TXT, data: txtData(t.text) });
  return out;
}

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function mxData(preference: number, host: string): Buffer {
  const pref = Buffer.alloc(2);
  pref.writeUInt16BE(preference);
  return Buffer.concat([pref, encodeName(host)]);
}

/** TXT RDATA: character-strings of at most 255 bytes each. */
function txtData(text: string): Buffer {
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || at === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    if (bytes.length === 0) break;
  }
  return Buffer.concat(parts);
}

function readQuestion(query: Buffer): { name: string; type: number; end: number } | null {
  if (query.length < 17 || query.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const len = query[at] as number;
    if (len > 63) return null;
    labels.push(query.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += 1 + len;
  }
  const end = at + 5;
  if (end > query.length) return null;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end };
}

function reply(query: Buffer, questionEnd: number, rcode: number, answers: Record[], ttlS: number): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, AA, the query's RD, RA as dnsmasq sets it; the rcode.
  header.writeUInt16BE(0x8480 | (query.readUInt16BE(2) & 0x0100) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((r) => {
    const head = Buffer.alloc(12);
    head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    head.writeUInt16BE(r.type, 2);
    head.writeUInt16BE(1, 4); // IN
    head.writeUInt32BE(ttlS, 6);
    head.writeUInt16BE(r.data.length, 10);
    return Buffer.concat([head, r.data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...rrs]);
}
