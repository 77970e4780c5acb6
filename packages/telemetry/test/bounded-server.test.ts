import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createBoundedServer, DEFAULT_SERVER_LIMITS } from '../src/index.js';
import type { ServerLimits } from '../src/index.js';

// Far more than loopback's kernel buffers take, so a client that stops reading leaves most of it
// queued in the server's socket.
const ANSWER_BYTES = 32 * 1024 * 1024;

interface Client {
  /** Bytes received before the connection ended. */
  received: () => number;
  /** Resolves when the server closed or reset the connection. */
  closed: Promise<void>;
  /** Reads on: what the kernel still holds arrives, then the end. */
  resume: () => void;
}

/** `reading`: false stops after the first bytes; true reads on, pausing 2 ms per chunk: over a
 * second for the whole answer, longer than the server's 400 ms window. */
function get(port: number, reading: boolean): Client {
  let received = 0;
  let stopped = !reading;
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    socket.pause();
    if (!stopped) setTimeout(() => socket.resume(), 2);
  });
  socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  const resume = (): void => {
    stopped = false;
    socket.resume();
  };
  return { received: () => received, closed, resume };
}

describe('createBoundedServer: a client that stops reading', () => {
  let dropped: (limits: ServerLimits) => void = () => undefined;
  const firstDrop = new Promise<ServerLimits>((resolve) => (dropped = resolve));
  let server: ReturnType<typeof createBoundedServer>;
  let port: number;

  before(async () => {
    const limits = { ...DEFAULT_SERVER_LIMITS, slowReaderBytes: 1024, slowReaderTimeoutMs: 400 };
    server = createBoundedServer(
      (_req, res) => {
        res.writeHead(200, { 'content-length': ANSWER_BYTES });
        res.end(Buffer.alloc(ANSWER_BYTES, 0x61));
      },
      limits,
      { onFirstDrop: (l) => dropped(l), isOwnHop: () => false },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is cut, with its answer mostly unsent, and the cut is reported', async () => {
    const client = get(port, false);
    assert.equal((await firstDrop).slowReaderBytes, 1024);
    // Reading on now gets only what the kernel had taken before the cut.
    client.resume();
    await client.closed;
    assert.ok(client.received() < ANSWER_BYTES, `received ${client.received()} bytes`);
  });

  it('a client that reads slowly but steadily gets the whole answer (the cut is for no progress)', async () => {
    const client = get(port, true);
    await client.closed;
    assert.ok(client.received() > ANSWER_BYTES, `received ${client.received()} bytes`);
  });
});

describe('createBoundedServer: at MAX_CONNECTIONS, a request is in progress once its body is in', () => {
  const bodies: Array<() => void> = [];
  let server: ReturnType<typeof createBoundedServer>;
  let port: number;

  before(async () => {
    const limits = { ...DEFAULT_SERVER_LIMITS, maxConnections: 1, maxConnectionsPerPeer: 1 };
    // Reads the body and never answers: a request whose body came stays in progress.
    server = createBoundedServer(
      (req) => {
        req.resume();
        req.once('end', () => bodies.shift()?.());
      },
      limits,
      { onFirstDrop: () => undefined, isOwnHop: () => false },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const open = async (): Promise<{ socket: net.Socket; closed: () => boolean }> => {
    const socket = net.connect(port, '127.0.0.1');
    let closed = false;
    socket.on('error', () => undefined);
    socket.once('close', () => (closed = true));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed: () => closed };
  };
  const post = (bodyBytes: number): string =>
    `POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n${'a'.repeat(bodyBytes)}`;
  const untilClosed = (c: { socket: net.Socket; closed: () => boolean }): Promise<void> =>
    c.closed() ? Promise.resolve() : new Promise((resolve) => c.socket.once('close', resolve));

  it('a request whose body never comes gives way; one whose body came does not', async () => {
    // Headers in (the listener has it: "100 Continue"), one body byte of four.
    const halfSent = await open();
    const continued = new Promise<void>((resolve) => halfSent.socket.once('data', () => resolve()));
    halfSent.socket.write(post(1));
    await continued;
    const next = await open();
    const closedFirst = await Promise.race([
      untilClosed(halfSent).then(() => 'the half-sent socket'),
      untilClosed(next).then(() => 'the new socket'),
    ]);
    assert.equal(
      closedFirst,
      'the half-sent socket',
      'the new socket takes the half-sent one’s place',
    );

    const bodyIn = new Promise<void>((resolve) => bodies.push(resolve));
    next.socket.write(post(4));
    await bodyIn;
    const refused = await open();
    await untilClosed(refused);
    assert.equal(next.closed(), false, 'a request in progress is never evicted');
    next.socket.destroy();
  });
});
