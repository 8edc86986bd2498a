/**
 * The rtnetlink link-notification parser (native/host/links.cc parse_link_events) on
 * synthetic datagrams: what the kernel sends to RTNLGRP_LINK (include/uapi/linux/
 * rtnetlink.h RTM_NEWLINK/RTM_DELLINK, struct ifinfomsg), the bridge's AF_BRIDGE port
 * notifications that share the group, and malformed input. No system calls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseLinkEvents } from '../../src/native/host.js';
import { attr, ifinfomsg, nlmsg, str, u16, u32 } from '../lib/netlink.js';

function nlmsgOf(type: number, payload: Buffer): Buffer {
  return nlmsg(type, 0, payload, 0);
}
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const NLMSG_OVERRUN = 4;
const AF_UNSPEC = 0;
const AF_BRIDGE = 7;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFF_UP = 1;

function link(type: number, family: number, index: number, name: string, flags = IFF_UP): Buffer {
  return nlmsgOf(type, Buffer.concat([ifinfomsg(family, index, 1, flags), attr(IFLA_IFNAME, str(name)), attr(IFLA_MTU, u32(1500))]));
}

test('RTM_NEWLINK and RTM_DELLINK become events in order, with the link they describe', () => {
  const bytes = Buffer.concat([link(RTM_NEWLINK, AF_UNSPEC, 7, 'veth7'), link(RTM_DELLINK, AF_UNSPEC, 5, 'veth5', 0)]);
  const r = parseLinkEvents(bytes);
  assert.equal(r.error, null);
  assert.equal(r.overrun, false);
  assert.deepEqual(
    r.events.map((e) => [e.deleted, e.link.ifindex, e.link.name, e.link.up, e.link.mtu]),
    [
      [false, 7, 'veth7', true, 1500],
      [true, 5, 'veth5', false, 1500],
    ],
  );
});

test('AF_BRIDGE notifications (a port leaving a bridge) and other message types are not link events', () => {
  // net/bridge/br_netlink.c br_ifinfo_notify(): RTM_DELLINK with ifi_family AF_BRIDGE when
  // a port leaves its bridge; the link itself is still there.
  const bytes = Buffer.concat([
    link(RTM_DELLINK, AF_BRIDGE, 4, 'veth4'),
    link(RTM_NEWLINK, AF_BRIDGE, 4, 'veth4'),
    nlmsgOf(RTM_NEWADDR, Buffer.alloc(8)),
    link(RTM_NEWLINK, AF_UNSPEC, 9, 'eth9'),
  ]);
  const r = parseLinkEvents(bytes);
  assert.equal(r.error, null);
  assert.deepEqual(
    r.events.map((e) => [e.deleted, e.link.name]),
    [[false, 'eth9']],
  );
});

test('NLMSG_OVERRUN sets overrun; malformed messages give an error, never a crash', () => {
  const over = parseLinkEvents(Buffer.concat([nlmsgOf(NLMSG_OVERRUN, Buffer.alloc(0)), link(RTM_NEWLINK, AF_UNSPEC, 2, 'a')]));
  assert.equal(over.overrun, true);
  assert.equal(over.events.length, 1);

  const short = parseLinkEvents(nlmsgOf(RTM_DELLINK, Buffer.alloc(8)));
  assert.match(short.error ?? '', /shorter than struct ifinfomsg/);

  const good = link(RTM_NEWLINK, AF_UNSPEC, 3, 'ok');
  const truncated = parseLinkEvents(Buffer.concat([good, good.subarray(0, 20)]));
  assert.match(truncated.error ?? '', /out of bounds|truncated/);
  assert.deepEqual(
    truncated.events.map((e) => e.link.name),
    ['ok'],
    'events before the bad message are kept',
  );

  const badAttr = Buffer.from(good);
  u16(200).copy(badAttr, 32); // IFLA_IFNAME's nla_len past the end
  assert.match(parseLinkEvents(badAttr).error ?? '', /malformed attribute/);

  // Every prefix of a valid datagram: an error or events, no exception.
  for (let n = 0; n <= good.length; n++) {
    const r = parseLinkEvents(good.subarray(0, n));
    assert.ok(r.error !== null || r.events.length <= 1);
  }
});
