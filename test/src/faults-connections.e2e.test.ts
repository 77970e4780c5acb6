// Connection caps that clients cannot turn against the services' own hops: the gateway's
// validate hop and its chat hops never compete with clients for MAX_CONNECTIONS, sockets that hold
// a slot without a request in progress give way to new ones, and one peer address cannot take
// every slot (MAX_CONNECTIONS_PER_PEER).
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { eventually, fillRequest, postJson, startService, startStack } from './harness.js';
import { metricSum, readSessionFile, reportEvidence } from './faults-helpers.js';

/** An attacker's socket: `head` sent, then nothing. `closed` turns true when the server hangs up. */
interface HeldSocket {
  socket: net.Socket;
  closed: boolean;
}

async function holdSocket(port: number, head: string, localAddress?: string): Promise<HeldSocket> {
  const socket = net.connect({
    port,
    host: '127.0.0.1',
    ...(localAddress ? { localAddress } : {}),
  });
  const held: HeldSocket = { socket, closed: false };
  socket.on('error', () => undefined);
  socket.on('close', () => (held.closed = true));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  return held;
}

// A request line begun and never finished: holds a slot with no request in progress.
const IDLE = 'P';
// Headers complete, body never sent: holds a slot, and gives way like an idle one.
const busyHead = (path: string): string =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n`;

describe('faults: connection caps and the services own hops', () => {
  it('gateway: clients holding every MAX_CONNECTIONS slot do not starve the validate hop', async (t) => {
    const stack = await startStack({ gatewayEnv: { MAX_CONNECTIONS: '4' } });
    const { gateway, sessionLogPath } = stack;
    const attackers: HeldSocket[] = [];
    try {
      const request = await fillRequest('clean', { max_iterations: 1 });
      for (let i = 0; i < 3; i++) attackers.push(await holdSocket(gateway.port, IDLE));
      const underAttack = await postJson(`${gateway.url}/v1/iterate`, request);
      for (const a of attackers) a.socket.destroy();
      // Four clients at once fill the cap themselves: their validate hops still need sockets.
      const four = await Promise.all(
        Array.from({ length: 4 }, () => postJson(`${gateway.url}/v1/iterate`, request)),
      );
      const statuses = [underAttack, ...four].map((r) => r.status);
      const rows = await eventually(
        () => {
          const n = readSessionFile(sessionLogPath).rows.length;
          return n >= 5 ? n : undefined;
        },
        10_000,
        'five rows',
      );
      const evidence = `3 idle sockets + 1 session: ${underAttack.status} ${String(underAttack.body['error'] ?? 'accepted')}; 4 concurrent sessions: ${four.map((r) => r.status).join(', ')}; rows ${rows}`;
      t.diagnostic(evidence);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200], JSON.stringify(underAttack.body));
      reportEvidence(t, {
        fault:
          'connection cap: gateway MAX_CONNECTIONS=4 held by 3 idle sockets + 1 session, then 4 concurrent sessions',
        expectation:
          'sessions answer 200: the validate hop goes to its own loopback listener, outside the cap',
        evidence,
      });
    } finally {
      for (const a of attackers) a.socket.destroy();
      await stack.stop();
    }
  });

  it('chatd: clients holding its MAX_CONNECTIONS slots do not starve the gateway chat hops', async (t) => {
    const stack = await startStack({ chatdEnv: { MAX_CONNECTIONS: '4' } });
    const { chatd, gateway } = stack;
    const attackers: HeldSocket[] = [];
    try {
      const request = await fillRequest('clean', { max_iterations: 1 });
      for (let i = 0; i < 4; i++) attackers.push(await holdSocket(chatd.port, IDLE));
      // Its chat hop needs a new socket: an idle attacker gives way.
      const first = await postJson(`${gateway.url}/v1/iterate`, request);
      // Four held requests take every client slot; the gateway's kept-alive socket, whose
      // requests carry its hop signature, is not one of them: the session needs no eviction.
      const busy: HeldSocket[] = [];
      for (let i = 0; i < 4; i++) busy.push(await holdSocket(chatd.port, busyHead('/v1/chat')));
      const second = await postJson(`${gateway.url}/v1/iterate`, request);
      attackers.push(...busy);
      const evidence = `4 idle sockets, session ${first.status}; then 4 requests held open (${busy.filter((b) => !b.closed).length}/4 still open), session ${second.status}; ${attackers.slice(0, 4).filter((a) => a.closed).length}/4 idle sockets closed by chatd`;
      t.diagnostic(evidence);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(
        busy.filter((b) => b.closed).length,
        0,
        'the kept-alive hop socket serves the session: no held socket is evicted',
      );
      reportEvidence(t, {
        fault:
          'connection cap: chatd MAX_CONNECTIONS=4 held by 4 idle sockets, then by 4 held requests',
        expectation:
          'gateway sessions answer 200: idle sockets give way, the hop socket is not counted',
        evidence,
      });
    } finally {
      for (const a of attackers) a.socket.destroy();
      await stack.stop();
    }
  });

  it('chatd: headers sent and the body withheld on every per-peer slot do not starve the gateway chat hop', async (t) => {
    const perPeer = 4;
    const stack = await startStack({
      chatdEnv: { MAX_CONNECTIONS: '8', MAX_CONNECTIONS_PER_PEER: String(perPeer) },
    });
    const { chatd, gateway, sessionLogPath } = stack;
    const held: HeldSocket[] = [];
    try {
      const request = await fillRequest('clean', { max_iterations: 1 });
      // `expect: 100-continue`: chatd's "100 Continue" tells that it parsed the headers and
      // handed the request to its listener; the body is then never sent.
      const withheld = busyHead('/v1/chat').replace('\r\n\r\n', '\r\nexpect: 100-continue\r\n\r\n');
      const continued = new Set<HeldSocket>();
      for (let i = 0; i < perPeer; i++) {
        const h = await holdSocket(chatd.port, withheld);
        h.socket.on('data', (chunk: Buffer) => {
          if (chunk.toString('latin1').startsWith('HTTP/1.1 100')) continued.add(h);
        });
        held.push(h);
      }
      await eventually(
        () => (continued.size === perPeer ? true : undefined),
        10_000,
        'chatd to take the headers of every held request',
      );
      // The gateway's chat hop comes from the same address, on a new socket.
      const session = await postJson(`${gateway.url}/v1/iterate`, request);
      const rows = await eventually(
        () => {
          const n = readSessionFile(sessionLogPath).rows.length;
          return n >= 1 ? n : undefined;
        },
        10_000,
        'the session row',
      );
      const closed = held.filter((h) => h.closed).length;
      const evidence = `${perPeer} headers-only POSTs held from 127.0.0.1 (MAX_CONNECTIONS_PER_PEER=${perPeer}); session ${session.status} ${String(session.body['error'] ?? 'accepted')}; rows ${rows}; ${closed}/${perPeer} held sockets closed by chatd`;
      t.diagnostic(evidence);
      assert.equal(session.status, 200, JSON.stringify(session.body));
      assert.equal(rows, 1);
      reportEvidence(t, {
        fault: `connection cap: chatd MAX_CONNECTIONS_PER_PEER=${perPeer} held by POSTs whose body never comes`,
        expectation:
          'the session answers 200 and leaves its row: a request without its body is not in progress and gives way',
        evidence,
      });
    } finally {
      for (const h of held) h.socket.destroy();
      await stack.stop();
    }
  });

  it('one peer address cannot take every slot (MAX_CONNECTIONS_PER_PEER)', async (t) => {
    const chatd = await startService('chatd', {
      ROSTER_PATH: '/nonexistent/roster.parquet',
      MAX_CONNECTIONS: '8',
      MAX_CONNECTIONS_PER_PEER: '2',
    });
    const held: HeldSocket[] = [];
    try {
      // Held requests from 127.0.0.2: the third takes the place of the first, never a slot of 127.0.0.1.
      for (let i = 0; i < 3; i++)
        held.push(await holdSocket(chatd.port, busyHead('/v1/chat'), '127.0.0.2'));
      await eventually(
        () => (held.some((h) => h.closed) ? true : undefined),
        10_000,
        'the socket past the per-peer cap to be closed',
      );
      const open = held.filter((h) => !h.closed).length;
      const other = await fetch(`${chatd.url}/healthz`);
      const dropped = await metricSum(chatd.url, 'lakehouse_http_connections_dropped_total');
      const evidence = `127.0.0.2: ${open}/3 sockets kept; 127.0.0.1 /healthz ${other.status}; dropped ${dropped}`;
      t.diagnostic(evidence);
      assert.equal(open, 2);
      assert.equal(other.status, 200);
      assert.ok(dropped >= 1);
      reportEvidence(t, {
        fault: 'connection cap: 3 requests held open from one address, MAX_CONNECTIONS_PER_PEER=2',
        expectation: 'the third is closed and counted; other addresses are still served',
        evidence,
      });
    } finally {
      for (const h of held) h.socket.destroy();
      await chatd.stop();
    }
  });
});
