import { createSocket } from 'node:dgram';

/**
 * A DNS server on loopback whose answers change from one query to the next, as a rebinding attacker's
 * does (dnsmasq, test/support/dns-server.ts, serves fixed records): `answer(name, n)` gives the IPv4
 * addresses of the n-th A query (0, 1, ...) for that name, [] for NXDOMAIN. AAAA queries get NODATA.
 * Only what a stub resolver sends is understood: one question, no compression in it.
 */
export async function startRebindingDns(answer: (name: string, n: number) => string[]) {
  const counts = new Map<string, number>();
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const reply = respond(query, (name) => {
      const n = counts.get(name) ?? 0;
      counts.set(name, n + 1);
      return answer(name, n);
    });
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    /** A queries received for `name`. */
    queries: (name: string) => counts.get(name) ?? 0,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function respond(query: Buffer, addressesOf: (name: string) => string[]): Buffer | null {
  if (query.length < 17) return null;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const len = query[at] as number;
    labels.push(query.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += 1 + len;
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return null;
  const type = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  const addresses = type === 1 ? addressesOf(name) : [];
  const nxdomain = type === 1 && addresses.length === 0;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, AA, the query's RD; NXDOMAIN or NOERROR.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (nxdomain ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((address) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(0, 6); // TTL 0: nothing cached, every lookup asks again
    rr.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => {
      rr[12 + i] = Number(octet);
    });
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}
