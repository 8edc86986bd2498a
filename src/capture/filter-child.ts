/**
 * The child process that compiles a `-f` filter for csumtop (src/capture/filter-compile.ts
 * says why it is a process of its own). Reads `{"expr": ...}` as JSON on standard input
 * and writes one JSON line: `{"ether": BASE64, "raw": BASE64}` (the kernel's sock_filter
 * arrays for Ethernet and raw-IP links) or `{"error": MESSAGE}`. argv[2] is csumtop's
 * pid: the kernel kills this process when csumtop ends, however it ends.
 */
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../output/pcap-frames.js';
import { compileFilterNow, dieWithParent } from '../native/live.js';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => (input += d));
process.stdin.on('end', () => {
  if (!dieWithParent(Number(process.argv[2]))) process.exit(1);
  let answer: Record<string, string>;
  try {
    const { expr } = JSON.parse(input) as { expr: string };
    const b64 = (p: Uint8Array): string => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64');
    answer = { ether: b64(compileFilterNow(expr, LINKTYPE_ETHERNET)), raw: b64(compileFilterNow(expr, LINKTYPE_RAW)) };
  } catch (err) {
    answer = { error: (err as Error).message };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
