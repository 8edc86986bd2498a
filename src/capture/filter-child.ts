/**
 * The child process that compiles a `-f` filter for csumtop (src/capture/filter-compile.ts
 * says why it is a process of its own). Reads `{"expr": ..., "linktypes": [N, ...]}` as
 * JSON on standard input and writes one JSON line: `{"programs": {"N": BASE64, ...}}`
 * (the kernel's sock_filter arrays, one per link type) or `{"error": MESSAGE}` for the
 * first link type libpcap could not compile it for. argv[2] is csumtop's pid: the kernel
 * kills this process when csumtop ends, however it ends.
 */
import { compileFilterNow, dieWithParent } from '../native/live.js';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => (input += d));
process.stdin.on('end', () => {
  if (!dieWithParent(Number(process.argv[2]))) process.exit(1);
  let answer: { programs: Record<string, string> } | { error: string };
  try {
    const { expr, linktypes } = JSON.parse(input) as { expr: string; linktypes: number[] };
    const b64 = (p: Uint8Array): string => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64');
    const programs: Record<string, string> = {};
    for (const lt of linktypes) programs[String(lt)] = b64(compileFilterNow(expr, lt));
    answer = { programs };
  } catch (err) {
    answer = { error: (err as Error).message };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
