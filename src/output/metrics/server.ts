/**
 * The HTTP side of `--metrics`: GET /metrics (Prometheus text format) and GET /healthz
 * (200 "ok" while capture runs, 503 with the reason once it stopped or stalled: the
 * DaemonSet's livenessProbe restarts a csumtop whose capture no longer delivers).
 * Listening happens before capture starts, so a port in use or an address this host
 * does not have is reported as a usage error (exit 2) and nothing is captured.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { formatListenAddress, type ListenAddress } from './address.js';

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
    const server = createServer((req, res) => {
      serve(req, res, handler).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`csumtop: ${(err as Error).message}\n`);
      });
    });
    // A scrape is one small request: do not let idle keep-alive sockets hold the exit.
    server.keepAliveTimeout = 5000;
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
