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

/** Runs one instant query; resolves with its vector. */
export async function instantQuery(base: URL, query: string, timeoutMs = 10_000): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', base);
  url.searchParams.set('query', query);
  const where = `Prometheus at ${base.href}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new PrometheusError(`${where} is unreachable: ${why}`);
  }
  const text = await res.text();
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
