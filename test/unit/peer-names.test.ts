import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { UsageError, parseOptions } from '../../src/cli/args.js';
import { HOSTS_RECHECK_MS, LOOKUP_TIMEOUT_MS, MAX_IN_FLIGHT, PeerNames, parseHosts } from '../../src/host/peer-names.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('hosts(5): first name of the first line per address, comments and junk skipped, IPv6 spellings folded', () => {
  const m = parseHosts(
    [
      '127.0.0.1 localhost',
      '# 192.168.56.11 commented-out',
      '192.168.56.11   node-a node-a.cluster   # trailing comment',
      '192.168.56.11 second-line-loses',
      'not-an-address name',
      '2001:DB8:0:0::1 v6-node',
      '10.0.0.9',
    ].join('\n'),
  );
  assert.equal(m.get('192.168.56.11'), 'node-a');
  assert.equal(m.get('2001:db8::1'), 'v6-node');
  assert.equal(m.has('10.0.0.9'), false);
  assert.equal(m.size, 3);
});

test('names from the hosts file only by default: the resolver is never asked; a changed file is read again', () => {
  const hosts = path.join(dir, 'hosts1');
  writeFileSync(hosts, '192.168.56.11 node-a\n');
  let now = 0;
  let asked = 0;
  const n = new PeerNames({ hostsFile: hosts, nowMs: () => now, resolve: () => asked++ });
  assert.equal(n.name('192.168.56.11'), 'node-a');
  assert.equal(n.name('192.168.56.12'), null);
  assert.equal(n.name('2001:db8::1'), null);
  assert.equal(asked, 0, 'no DNS without --dns-names');
  writeFileSync(hosts, '192.168.56.11 node-a\n192.168.56.12 node-b-with-a-longer-name\n');
  assert.equal(n.name('192.168.56.12'), null, 'not re-read before the recheck interval');
  now += HOSTS_RECHECK_MS;
  assert.equal(n.name('192.168.56.12'), 'node-b-with-a-longer-name');
  assert.equal(new PeerNames({ hostsFile: path.join(dir, 'missing') }).name('192.168.56.11'), null);
});

test('--dns-names: lookups are asynchronous, at most MAX_IN_FLIGHT at once, cached (names and misses), late answers count as none', async () => {
  const hosts = path.join(dir, 'hosts2');
  writeFileSync(hosts, '');
  let now = 0;
  const waiting: Array<{ addr: string; done: (n: string | null) => void }> = [];
  const n = new PeerNames({ hostsFile: hosts, dns: true, nowMs: () => now, resolve: (addr, done) => waiting.push({ addr, done }) });
  const addrs = Array.from({ length: MAX_IN_FLIGHT + 2 }, (_, i) => `10.1.0.${i + 1}`);
  for (const a of addrs) assert.equal(n.name(a), null, 'nothing known at first: never waits');
  assert.equal(waiting.length, MAX_IN_FLIGHT);
  assert.equal(n.pending, MAX_IN_FLIGHT);
  waiting[0].done('node-1.example');
  waiting[1].done(null);
  now += LOOKUP_TIMEOUT_MS + 1;
  waiting[2].done('too-late.example');
  assert.equal(n.name('10.1.0.1'), 'node-1.example');
  assert.equal(n.name('10.1.0.2'), null);
  assert.equal(n.name('10.1.0.3'), null, 'an answer after the bound is not used');
  const before = waiting.length;
  n.name('10.1.0.2');
  n.name('10.1.0.3');
  assert.equal(waiting.length, before, 'misses are cached, not asked again');
  // The addresses refused while MAX_IN_FLIGHT were out are asked at a later call.
  n.name(addrs[MAX_IN_FLIGHT]);
  assert.equal(waiting[waiting.length - 1].addr, addrs[MAX_IN_FLIGHT]);
});

test('-n and --dns-names: names off, or the resolver on; both at once is a usage error', () => {
  assert.equal(parseOptions(['-r', 'x.pcap']).peerNames, 'hosts');
  assert.equal(parseOptions(['-n', '-r', 'x.pcap']).peerNames, 'off');
  assert.equal(parseOptions(['--dns-names', '-r', 'x.pcap']).peerNames, 'dns');
  assert.throws(() => parseOptions(['-n', '--dns-names', '-r', 'x.pcap']), UsageError);
});
