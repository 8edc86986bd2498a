/**
 * scripts/build-bpf.js, the build step that compiles the eBPF program of issue 18 into a
 * header the addon includes: with clang, a BPF ELF object (EM_BPF) with its BTF; without
 * clang, a header that says "not built" and why, and the build goes on (exit 0).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';

const SCRIPT = path.join(ROOT, 'scripts', 'build-bpf.js');

function build(env: NodeJS.ProcessEnv): { status: number | null; header: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-build-bpf-'));
  try {
    const out = path.join(dir, 'gen', 'kernel_drops_bpf.h');
    const r = spawnSync(process.execPath, [SCRIPT, out], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { status: r.status, header: fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '', stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('with clang and libbpf-dev: the header holds a BPF ELF object with BTF', () => {
  const r = build({});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.header, /#define CSUMTOP_KDROPS_BUILT 1/, `clang and libbpf-dev are needed here (.ci/run installs both): ${r.stderr}`);
  const hex = [...r.header.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1], 16));
  const elf = Buffer.from(hex);
  assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'an ELF file');
  assert.equal(elf.readUInt16LE(18), 247, 'e_machine EM_BPF');
  assert.ok(elf.includes(Buffer.from('.BTF\0')), 'BTF for CO-RE (clang -g)');
  assert.ok(elf.includes(Buffer.from('tp_btf/kfree_skb')), 'the program section');
  assert.match(r.header, new RegExp(`kKernelDropsBpfObject\\[${elf.length}\\]`));
});

test('without clang: "not built" and why, and the build goes on', () => {
  const r = build({ CLANG: '/nonexistent/clang' });
  assert.equal(r.status, 0);
  assert.match(r.header, /#define CSUMTOP_KDROPS_BUILT 0/);
  assert.match(r.header, /#define CSUMTOP_KDROPS_WHY "no clang at build time \(Debian: apt-get install clang libbpf-dev\)"/);
  assert.match(r.stderr, /kernel drop verdicts not built in/);
});
