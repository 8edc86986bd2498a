/**
 * Synthetic rtnetlink bytes for the parser tests (host order, as the kernel writes them:
 * include/uapi/linux/netlink.h nlmsghdr and nlattr, linux/rtnetlink.h ifinfomsg).
 */
import * as os from 'node:os';

const LE = os.endianness() === 'LE';

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  if (LE) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

/** One attribute, padded to 4 bytes (NLA_ALIGN). */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  u16(len).copy(out, 0);
  u16(type).copy(out, 2);
  payload.copy(out, 4);
  return out;
}

/** A NUL-terminated string attribute payload. */
export const str = (s: string): Buffer => Buffer.from(s + '\0');

/** One message: nlmsghdr (len, type, flags, seq, pid) and the payload. */
export function nlmsg(type: number, flags: number, payload: Buffer, seq = 1): Buffer {
  return Buffer.concat([u32(16 + payload.length), u16(type), u16(flags), u32(seq), u32(0), payload]);
}

/** struct ifinfomsg: family u8, pad u8, type u16, index s32, flags u32, change u32. */
export function ifinfomsg(family: number, index: number, type: number, flags: number): Buffer {
  return Buffer.concat([Buffer.from([family, 0]), u16(type), u32(index), u32(flags), u32(0)]);
}
