import http from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { diag, metrics } from '@opentelemetry/api';
import type { Attributes, Counter } from '@opentelemetry/api';
import { readInt } from './env-config.js';
import type { Env } from './env-config.js';
import { TELEMETRY_SCOPE } from './rejection-counter.js';
import { requestTrace } from './request-trace.js';

/** How long a client may take to send a request and to read the answer, and how many sockets it may hold. */
export interface ServerLimits {
  /** Time to receive all request headers (`HEADERS_TIMEOUT_MS`); past it: 408 and close. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (`REQUEST_TIMEOUT_MS`); past it: 408 and close. */
  requestTimeoutMs: number;
  /** Idle time a keep-alive socket is kept between requests (`KEEP_ALIVE_TIMEOUT_MS`). */
  keepAliveTimeoutMs: number;
  /** Client sockets held at once (`MAX_CONNECTIONS`); see {@link createBoundedServer}. */
  maxConnections: number;
  /** Client sockets one remote address may hold (`MAX_CONNECTIONS_PER_PEER`), at most maxConnections. */
  maxConnectionsPerPeer: number;
  /** Unsent response bytes a socket may keep queued (`SLOW_READER_BYTES`) … */
  slowReaderBytes: number;
  /** … for this long (`SLOW_READER_TIMEOUT_MS`) without taking as many: past it the socket is destroyed. */
  slowReaderTimeoutMs: number;
}

/** Defaults of {@link readServerLimits}. A response is not timed (sessions may be long), only its reading. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxConnectionsPerPeer: 256,
  slowReaderBytes: 1 << 20,
  slowReaderTimeoutMs: 15_000,
});

/** Counter of connections closed by the caps, by `reason` (Prometheus: `…_total`). */
const CONNECTIONS_DROPPED_METRIC = 'lakehouse.http.connections_dropped';

/** Why a connection was closed by {@link createBoundedServer}: the `reason` label. */
export type ConnectionDropReason =
  'max_connections' | 'max_connections_per_peer' | 'idle_evicted' | 'slow_reader';

/** Reads {@link ServerLimits}; throws ConfigError naming a bad variable. */
export function readServerLimits(env: Env): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  const headersTimeoutMs = readInt(env, 'HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 100, 600_000);
  const maxConnections = readInt(env, 'MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000);
  return {
    headersTimeoutMs,
    // Node requires requestTimeout >= headersTimeout.
    requestTimeoutMs: readInt(
      env,
      'REQUEST_TIMEOUT_MS',
      d.requestTimeoutMs,
      headersTimeoutMs,
      3_600_000,
    ),
    keepAliveTimeoutMs: readInt(env, 'KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 1, 600_000),
    maxConnections,
    maxConnectionsPerPeer: Math.min(
      maxConnections,
      readInt(env, 'MAX_CONNECTIONS_PER_PEER', d.maxConnectionsPerPeer, 1, 1_000_000),
    ),
    slowReaderBytes: readInt(env, 'SLOW_READER_BYTES', d.slowReaderBytes, 1024, 1 << 30),
    slowReaderTimeoutMs: readInt(
      env,
      'SLOW_READER_TIMEOUT_MS',
      d.slowReaderTimeoutMs,
      100,
      3_600_000,
    ),
  };
}

/** Options of {@link createBoundedServer} besides the limits. */
export interface BoundedServerOptions {
  /** Called once, on the first connection a cap closes. */
  onFirstDrop?: (limits: ServerLimits) => void;
  /**
   * True for a request of our own services (default: its hop signature verifies): its socket is
   * no longer counted against the caps and is never evicted, so clients cannot starve our hops.
   */
  isOwnHop?: (req: IncomingMessage) => boolean;
}

interface Slot {
  readonly peer: string;
  /** Requests on the socket whose response is not closed; busy once one has its whole body. */
  readonly requests: Set<IncomingMessage>;
  /** When the socket last had no request in progress (its arrival, or its last response). */
  idleSince: number;
  /** Counted against the caps (false once it carried one of our own hops). */
  counted: boolean;
  /** Since when its unsent response bytes have been above slowReaderBytes (0 = not). */
  slowSince: number;
  /** Bytes handed to the kernel when the current slow window began. */
  slowMark: number;
}

// How far a socket's answer has gone out. Node's bytesWritten counts what is still queued, and
// writableLength keeps a write whole until it completes (one res.end(body) is one write), so
// progress inside that write is read from libuv's queue size (undocumented, long-standing; 0
// when absent): the two together grow whenever the kernel takes bytes.
const queuedInLibuv = (socket: Socket): number => {
  const size = (socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle
    ?.writeQueueSize;
  return typeof size === 'number' ? size : 0;
};
const progress = (socket: Socket): number =>
  socket.bytesWritten - socket.writableLength - queuedInLibuv(socket);

// Hard ceiling on all sockets, own hops included, past which Node closes new ones on arrival.
const OWN_HOP_HEADROOM = 2;

/**
 * An http.Server with the limits applied. Slow uploads (a body dribbled a byte at a time) are
 * answered 408 and closed at the headers or request timeout (checked every second). At
 * `maxConnections` client sockets (or `maxConnectionsPerPeer` from one remote address) a new one
 * takes the place of the socket that has gone longest with no request in progress (a request
 * whose body has not all arrived, an idle keep-alive); when every socket has a request in
 * progress (its body received, its response not closed) the new one is closed on arrival.
 * Sockets that carried one of our own hops are not counted. A socket whose unsent answer stays
 * above `slowReaderBytes` while it takes fewer than `slowReaderBytes` in `slowReaderTimeoutMs`
 * (a client that stopped reading) is destroyed. Every closed connection is counted in
 * {@link CONNECTIONS_DROPPED_METRIC} by reason and the first is logged.
 */
export function createBoundedServer(
  listener: RequestListener<typeof IncomingMessage, typeof ServerResponse>,
  limits: ServerLimits,
  options: BoundedServerOptions = {},
): http.Server {
  const onFirstDrop =
    options.onFirstDrop ??
    (() =>
      diag.warn(
        `@lakehouse/telemetry: MAX_CONNECTIONS (${limits.maxConnections}) reached; closing connections`,
      ));
  const isOwnHop = options.isOwnHop ?? ((req: IncomingMessage) => requestTrace(req).trusted);
  const slots = new Map<Socket, Slot>();
  const perPeer = new Map<string, number>();
  let counted = 0;
  let dropped = 0;
  let droppedCounter: Counter | undefined;
  const reasons = new Map<ConnectionDropReason, Attributes>();

  const drop = (reason: ConnectionDropReason): void => {
    dropped += 1;
    if (dropped === 1) onFirstDrop(limits);
    droppedCounter ??= metrics.getMeter(TELEMETRY_SCOPE).createCounter(CONNECTIONS_DROPPED_METRIC, {
      description:
        'Connections closed by MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER (evicted or refused) or a slow reader',
    });
    let attributes = reasons.get(reason);
    if (attributes === undefined) reasons.set(reason, (attributes = { reason }));
    droppedCounter.add(1, attributes);
  };
  const uncount = (slot: Slot): void => {
    if (!slot.counted) return;
    slot.counted = false;
    counted -= 1;
    const n = (perPeer.get(slot.peer) ?? 1) - 1;
    if (n === 0) perPeer.delete(slot.peer);
    else perPeer.set(slot.peer, n);
  };
  const release = (socket: Socket): void => {
    const slot = slots.get(socket);
    if (slot === undefined) return;
    slots.delete(socket);
    uncount(slot);
  };
  // A request counts as in progress only once its body has arrived: a client that sends headers
  // and withholds the body would otherwise hold its slot unevictable until REQUEST_TIMEOUT_MS.
  const busy = (slot: Slot): boolean => {
    for (const req of slot.requests) if (req.complete) return true;
    return false;
  };
  // The counted socket of `peer` (any peer when undefined) longest without a request in progress.
  const longestIdle = (peer: string | undefined): Socket | undefined => {
    let found: Socket | undefined;
    let since = Infinity;
    for (const [socket, slot] of slots) {
      if (!slot.counted || busy(slot) || (peer !== undefined && slot.peer !== peer)) continue;
      if (slot.idleSince < since) {
        since = slot.idleSince;
        found = socket;
      }
    }
    return found;
  };

  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const slot = slots.get(req.socket);
      if (slot !== undefined) {
        slot.requests.add(req);
        if (slot.counted && isOwnHop(req)) uncount(slot);
        res.once('close', () => {
          slot.requests.delete(req);
          slot.idleSince = performance.now();
        });
      }
      listener(req, res);
    },
  );
  server.maxConnections = limits.maxConnections * OWN_HOP_HEADROOM;
  server.on('drop', () => drop('max_connections'));
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    const peerFull = (perPeer.get(peer) ?? 0) >= limits.maxConnectionsPerPeer;
    if (peerFull || counted >= limits.maxConnections) {
      const victim = longestIdle(peerFull ? peer : undefined);
      if (victim === undefined) {
        socket.destroy();
        drop(peerFull ? 'max_connections_per_peer' : 'max_connections');
        return;
      }
      release(victim);
      victim.destroy();
      drop('idle_evicted');
    }
    const now = performance.now();
    slots.set(socket, {
      peer,
      requests: new Set(),
      idleSince: now,
      counted: true,
      slowSince: 0,
      slowMark: 0,
    });
    counted += 1;
    perPeer.set(peer, (perPeer.get(peer) ?? 0) + 1);
    socket.once('close', () => release(socket));
  });

  // Clients that stop reading: their queued answer would otherwise stay in memory.
  const check = setInterval(
    () => {
      const now = performance.now();
      for (const [socket, slot] of slots) {
        if (socket.writableLength <= limits.slowReaderBytes) {
          slot.slowSince = 0;
        } else if (slot.slowSince === 0) {
          slot.slowSince = now;
          slot.slowMark = progress(socket);
        } else if (now - slot.slowSince >= limits.slowReaderTimeoutMs) {
          // A reader taking slowReaderBytes per window is slow, not gone: a new window begins.
          const sent = progress(socket);
          if (sent - slot.slowMark >= limits.slowReaderBytes) {
            slot.slowSince = now;
            slot.slowMark = sent;
            continue;
          }
          release(socket);
          socket.destroy();
          drop('slow_reader');
        }
      }
    },
    Math.min(1_000, limits.slowReaderTimeoutMs),
  );
  check.unref();
  server.once('close', () => clearInterval(check));
  return server;
}
