/**
 * A minimal client of Prometheus' HTTP API: instant queries (GET /api/v1/query,
 * prometheus.io/docs/prometheus/latest/querying/api/#instant-queries) with Node's own
 * fetch, answers checked against the documented envelope
 * {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[t,"v"]}]}}
 * and {"status":"error","errorType":"...","error":"..."}. Every failure becomes a
 * PrometheusError whose message says which URL and what went wrong.
 */

export class PrometheusError extends Error {}

export interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

/** The base URL as given, checked: http(s) only, no query string or fragment. */
export function prometheusBase(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PrometheusError(`--prometheus: '${text}' is not a URL (expected e.g. http://prometheus:9090)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PrometheusError(`--prometheus: '${text}' must be an http:// or https:// URL`);
  }
  if (url.search !== '' || url.hash !== '') throw new PrometheusError(`--prometheus: '${text}' must not have a query string or fragment`);
  // Prometheus behind a path prefix (--web.route-prefix, a proxy): keep the path.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSample(r: unknown, where: string): VectorSample {
  if (!isRecord(r) || !isRecord(r.metric) || !Array.isArray(r.value) || r.value.length !== 2 || typeof r.value[1] !== 'string') {
    throw new PrometheusError(`${where}: a result is not {"metric":{...},"value":[time,"value"]}`);
  }
  const metric: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.metric)) {
    if (typeof v !== 'string') throw new PrometheusError(`${where}: label ${k} is not a string`);
    metric[k] = v;
  }
  const value = Number(r.value[1]);
  if (Number.isNaN(value) && r.value[1] !== 'NaN') throw new PrometheusError(`${where}: value '${r.value[1]}' is not a number`);
  return { metric, value };
}

/**
 * How long one query may take, from connecting to the last byte of the answer. A
 * Prometheus (or a proxy) that sends its headers and then stalls must not hang the
 * command: the deadline covers the body too, not only the wait for headers.
 */
export const QUERY_TIMEOUT_MS = 10_000;
/**
 * The largest answer read for one query. The biggest query (node x peer x direction)
 * is about 150 bytes per series: 32 MiB is some 200,000 series, far beyond a fleet of
 * 1000 nodes with 64 peers each; an endless body stops here instead of filling memory.
 */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export interface QueryLimits {
  timeoutMs?: number;
  maxBytes?: number;
  /** Aborts the query from outside (another query of the same view failed). */
  signal?: AbortSignal;
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${bytes} bytes`;
}

/** Reads the whole body, refusing more than maxBytes; the fetch's signal bounds the time. */
async function readCapped(res: Response, maxBytes: number, tooBig: (what: string) => PrometheusError): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig(`announcing a body of ${size(declared)}, longer`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooBig('with a body longer');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** Runs one instant query; resolves with its vector. */
export async function instantQuery(base: URL, query: string, limits: QueryLimits = {}): Promise<VectorSample[]> {
  const timeoutMs = limits.timeoutMs ?? QUERY_TIMEOUT_MS;
  const maxBytes = limits.maxBytes ?? MAX_ANSWER_BYTES;
  const url = new URL('api/v1/query', base);
  url.searchParams.set('query', query);
  const where = `Prometheus at ${base.href}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = limits.signal ? AbortSignal.any([timeout, limits.signal]) : timeout;
  // One message for a deadline passed at any step: which URL, and how far it got.
  const failed = (err: unknown, step: string): PrometheusError => {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e instanceof PrometheusError) return e;
    if (timeout.aborted) return new PrometheusError(`${where} did not answer within ${timeoutMs / 1000} s (${step}; GET ${url.pathname})`);
    if (limits.signal?.aborted) return new PrometheusError(`${where}: query abandoned (another query failed)`);
    return new PrometheusError(`${where} is unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  };
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    throw failed(err, 'no response headers');
  }
  let text: string;
  try {
    text = await readCapped(
      res,
      maxBytes,
      (what) =>
        new PrometheusError(`${where} answered HTTP ${res.status} ${what} than the ${size(maxBytes)} csumtop reads for one query (GET ${url.pathname})`),
    );
  } catch (err) {
    throw failed(err, `HTTP ${res.status} headers came, the body did not finish`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const head = text.slice(0, 120).replace(/\s+/g, ' ');
    throw new PrometheusError(`${where} answered HTTP ${res.status} with something that is not JSON (is this Prometheus?): ${head}`);
  }
  if (!isRecord(body)) throw new PrometheusError(`${where} answered HTTP ${res.status} with JSON that is not an API response`);
  if (body.status === 'error' || !res.ok) {
    const kind = typeof body.errorType === 'string' ? body.errorType : 'error';
    const msg = typeof body.error === 'string' ? body.error : 'no error message';
    throw new PrometheusError(`${where} answered HTTP ${res.status}: ${kind}: ${msg} (query: ${query})`);
  }
  if (body.status !== 'success' || !isRecord(body.data)) {
    throw new PrometheusError(`${where} answered without "status":"success" and "data": not the Prometheus API`);
  }
  if (body.data.resultType !== 'vector' || !Array.isArray(body.data.result)) {
    throw new PrometheusError(`${where}: expected a vector result, got ${String(body.data.resultType)} (query: ${query})`);
  }
  return body.data.result.map((r) => parseSample(r, where));
}
