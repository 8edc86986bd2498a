/**
 * The HTTP side of `--metrics`: GET /metrics (Prometheus text format) and GET /healthz
 * (200 "ok" while capture runs, 503 with the reason once it stopped or stalled: the
 * DaemonSet's livenessProbe restarts a csumtop whose capture no longer delivers).
 * Listening happens before capture starts, so a port in use or an address this host
 * does not have is reported as a usage error (exit 2) and nothing is captured.
 *
 * The port is open to every local user (the DaemonSet binds 0.0.0.0 on the host's
 * network), and every connection costs csumtop a file descriptor, the same descriptors
 * capture needs for its rings, namespaces and kernel counters. Issue 17: 20,000 idle
 * connections from an unprivileged user used them all up (/healthz stopped answering,
 * new interfaces failed with "Too many open files"). So the server holds at most
 * MAX_CONNECTIONS; a new connection beyond that closes the oldest one that is not in
 * the middle of a request (else the oldest at all), so the newest client, a probe or a
 * scrape, is always served and a flood never holds more descriptors than the cap.
 * Slow clients are cut off by time: the request head within HEADERS_TIMEOUT_MS (a
 * slowloris dripping headers), the whole request within REQUEST_TIMEOUT_MS, a socket
 * silent for IDLE_TIMEOUT_MS; a request head larger than MAX_HEADER_BYTES is refused
 * (431). Node raises the soft RLIMIT_NOFILE to the hard limit at start-up (src/node.cc
 * PlatformInit), so capture has all the descriptors the system grants minus this cap.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { formatListenAddress, type ListenAddress } from './address.js';

/** Connections held at once: a scrape and a probe need one each; far below any descriptor limit. */
export const MAX_CONNECTIONS = 64;
/** The request line and headers must arrive within this (a slowloris is cut off). */
export const HEADERS_TIMEOUT_MS = 5000;
/** The whole request (csumtop takes no body) within this. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A connection with no traffic either way for this long is closed (a reader that stopped reading too). */
export const IDLE_TIMEOUT_MS = 10_000;
/** An idle keep-alive connection between two scrapes is kept this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;
/** Request line and headers: a scrape sends a few hundred bytes. */
export const MAX_HEADER_BYTES = 8192;
/** How often Node checks the head and request deadlines (its default is 30 s). */
const CHECK_INTERVAL_MS = 500;

/**
 * The open connections, oldest first, and which of them are inside a request. Past the
 * cap, admitting one closes the oldest idle connection (else the oldest): see above.
 */
export class ConnectionCap {
  private readonly open = new Set<Socket>();
  private readonly busy = new Set<Socket>();
  /** Connections closed to make room, since start. */
  evicted = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  admit(socket: Socket): void {
    while (this.open.size >= this.max) {
      let victim: Socket | undefined;
      for (const s of this.open) {
        if (!this.busy.has(s)) {
          victim = s;
          break;
        }
      }
      victim ??= this.open.values().next().value as Socket;
      this.forget(victim);
      victim.destroy();
      this.evicted++;
    }
    this.open.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  /** A request was read on `socket`; it is answered until `res` finishes or closes. */
  request(socket: Socket, res: ServerResponse): void {
    if (!this.open.has(socket)) return;
    this.busy.add(socket);
    const done = (): void => void this.busy.delete(socket);
    res.once('finish', done);
    res.once('close', done);
  }

  private forget(socket: Socket): void {
    this.open.delete(socket);
    this.busy.delete(socket);
  }
}

export class MetricsListenError extends Error {}

export interface MetricsHandler {
  /** The exposition text; called once per scrape. */
  metrics(): Promise<string>;
  contentType: string;
  /** null while healthy, else why not (the body of the 503). */
  unhealthy(): string | null;
}

export class MetricsServer {
  private constructor(
    private readonly server: Server,
    /** The address actually bound (the port the kernel chose for port 0). */
    readonly address: { host: string; port: number },
  ) {}

  /** Starts listening; rejects with MetricsListenError saying what is wrong. */
  static listen(at: ListenAddress, handler: MetricsHandler): Promise<MetricsServer> {
    const cap = new ConnectionCap(MAX_CONNECTIONS);
    const server = createServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: CHECK_INTERVAL_MS,
      },
      (req, res) => {
        cap.request(req.socket, res);
        serve(req, res, handler).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`csumtop: ${(err as Error).message}\n`);
        });
      },
    );
    server.on('connection', (socket: Socket) => cap.admit(socket));
    // Without a 'timeout' listener Node destroys the silent socket itself.
    server.setTimeout(IDLE_TIMEOUT_MS);
    return new Promise((resolve, reject) => {
      const where = formatListenAddress(at);
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the port is already in use'
            : err.code === 'EADDRNOTAVAIL'
              ? 'this host has no such address'
              : err.code === 'EACCES'
                ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
                : err.message;
        reject(new MetricsListenError(`--metrics: cannot listen on ${where}: ${why}`));
      });
      server.listen({ host: at.host, port: at.port }, () => {
        const a = server.address();
        const port = typeof a === 'object' && a !== null ? a.port : at.port;
        resolve(new MetricsServer(server, { host: at.host, port }));
      });
    });
  }

  get url(): string {
    return `http://${formatListenAddress(this.address)}/metrics`;
  }

  /** Stops listening and drops open connections; resolves when closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: MetricsHandler): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const body = await handler.metrics();
    res.writeHead(200, { 'content-type': handler.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/healthz') {
    const why = handler.unhealthy();
    res.writeHead(why === null ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : why === null ? 'ok\n' : `${why}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found: csumtop serves /metrics and /healthz\n');
}
