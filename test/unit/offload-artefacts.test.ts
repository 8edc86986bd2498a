/**
 * Offload artefacts are counted apart from real errors (issue 19): in examples/incident.pcapng
 * 70 checksums hold only the pseudo-header sum (the capture was taken before the devices
 * filled them in) and 9 carriers from 192.168.56.11 have a really wrong outer UDP checksum.
 * The text report says so in its note; the correlation snapshot the dashboard reads must
 * agree: rates, per-layer rates and bad flows keep the 70 out of the errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { analyzeFileInterruptible } from '../../src/capture/file-run.js';
import { ROOT } from '../lab/lab.js';

const INCIDENT = `${ROOT}/examples/incident.pcapng`;

async function correlation() {
  const c = (await analyzeFileInterruptible(INCIDENT, { events: true }, () => null)).correlation;
  assert.ok(c, 'no correlation snapshot');
  return c;
}

test('incident.pcapng: interface rates count the pseudo-header sums as artefacts, not bad frames', async () => {
  const c = await correlation();
  const eth0 = c.rates.find((r) => r.interface === 'eth0');
  const fl = c.rates.find((r) => r.interface === 'flannel.1');
  assert.ok(eth0 && fl);
  // The report's table: eth0 inner udp 30 + inner tcp 5, flannel.1 outer udp 30 + outer tcp 5.
  assert.equal(eth0.artefacts.total, 35);
  assert.equal(fl.artefacts.total, 35);
  // The 9 carriers with a wrong outer checksum are the only real errors.
  assert.equal(eth0.badFrames.total, 9);
  assert.equal(fl.badFrames.total, 0);
  assert.deepEqual(Object.keys(eth0.badByChecksum), ['outer/udp']);
  assert.equal(eth0.badByChecksum['outer/udp'].total, 9);
  assert.deepEqual(fl.badByChecksum, {});
  assert.equal(
    eth0.badHistory.reduce((a, b) => a + b, 0),
    9,
    'the sparkline shows real errors only',
  );
});

test('incident.pcapng: a bad flow says how many of its frames were artefacts; DNS flows carry their query name', async () => {
  const c = await correlation();
  const real = c.badFlows.filter((f) => f.artefacts < f.count);
  assert.ok(real.length >= 3, 'the carriers from 192.168.56.11');
  for (const f of real) {
    assert.equal(f.peer, '192.168.56.11', JSON.stringify(f));
    assert.equal(f.artefacts, 0);
    assert.deepEqual(f.badChecksums, ['outer/udp']);
  }
  assert.equal(
    c.badFlows.reduce((s, f) => s + f.artefacts, 0),
    70,
    'every artefact frame had one bad checksum',
  );
  const dns = c.badFlows
    .filter((f) => f.inner?.dport === 53 && f.artefacts === 0)
    .map((f) => f.dnsName)
    .sort();
  assert.deepEqual(dns, ['kubernetes.default.svc.cluster.local', 'mysql.middleware.svc.cluster.local']);
  // An artefact flow that carries DNS is named too (the answer of redis.cache...).
  assert.ok(c.badFlows.some((f) => f.artefacts === f.count && f.dnsName === 'redis.cache.svc.cluster.local'));
});
