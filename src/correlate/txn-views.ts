/**
 * What the DNS and SYN wrappers (dns.ts, syn.ts) share around the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h): feeding and deciding (TxnTracker), the
 * place pairs of a batch for callers without a Correlator, and a native attribution
 * record as the report shows it.
 */
import type { Attribution, TableUse } from '../model/correlation.js';
import { nativeLayout } from '../native/analyzer.js';
import { endpointAt, type EndpointOffsets, type EventBatch } from '../native/events.js';
import type { AttributionLayout, NativeTxnTable } from '../native/txns.js';
import type { InterfaceDirectory } from './context.js';
import type { Places } from './places.js';

/**
 * A native transaction table fed one batch per call; the subclass turns its summary into
 * the report's shape. `cap`: the table's cap (what tableUse() reports).
 */
export abstract class TxnTracker<Summary> {
  protected readonly E: EndpointOffsets = nativeLayout().record;

  constructor(
    protected readonly t: NativeTxnTable<Summary>,
    private readonly cap: number,
    /** The Correlator's places (the pairs it passes to add() are interned there). */
    protected readonly places: Places,
  ) {}

  /** Bytes the native table allocated: at most its bytes per entry x the cap. */
  get bytes(): number {
    return this.t.bytes();
  }

  /** Transactions not tracked because the table was full. */
  get evicted(): number {
    return this.t.tableUse()[2];
  }

  /** One batch; `placePairs`: its listed interfaces (Places.pairs), made here from `dir` when absent. */
  add(ev: EventBatch, dir: InterfaceDirectory, placePairs?: Uint32Array): void {
    this.t.add(ev.buffer, ev.namesBuffer, placePairs ?? batchPlacePairs(ev, dir, this.places));
  }

  /** Transactions older than the timeout are decided (answered ones forgotten, the others counted). */
  advance(nowNs: number): void {
    this.t.advance(nowNs);
  }

  flush(): void {
    this.t.flush();
  }

  /** Open transactions; evicted counts those not tracked because the table was full. */
  tableUse(): TableUse {
    const u = this.t.tableUse();
    return { size: u[0], cap: this.cap, evicted: u[2] };
  }
}

/** Names of the checksum codes of a native attribution (native/flow/txn_attribution.h). */
const CHECKSUM_NAMES = ['ipv4', 'outer/l4', 'inner/l4'];

/**
 * The (id, place, flags) words of the interfaces of one batch, for callers that give
 * no place pairs (the Correlator does: it interns every listed interface once per batch).
 */
export function batchPlacePairs(ev: EventBatch, dir: InterfaceDirectory, places: Places): Uint32Array {
  const ids = new Set<number>();
  for (let i = 0; i < ev.count; i++) ids.add(ev.iface(i));
  const listed: [number, { label: string; namespace: string; overlay: boolean }][] = [];
  for (const id of ids) {
    const info = dir(id);
    if (info) listed.push([id, info]);
  }
  return places.pairs(listed);
}

/** A native attribution record at `off` of `buf` as the report shows it. */
export function attributionAt(view: DataView, buf: Buffer, off: number, A: AttributionLayout, E: EndpointOffsets, places: Places): Attribution {
  const o = endpointAt(buf, off + A.outer, E);
  const sent = buf[off + A.sent] !== 0;
  const checksums: string[] = [];
  for (let k = 0; k < buf[off + A.nChecksums]; k++) checksums.push(CHECKSUM_NAMES[buf[off + A.checksums + k]]);
  const frames: number[] = [];
  for (let k = 0; k < buf[off + A.nFrames]; k++) frames.push(view.getFloat64(off + A.frames + 8 * k, true));
  return {
    peer: sent ? o.dst : o.src,
    sender: o.src,
    receiver: o.dst,
    interface: places.at(view.getUint32(off + A.place, true)).label,
    checksums,
    frames,
  };
}
