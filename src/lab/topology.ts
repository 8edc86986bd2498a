/**
 * Addresses and ports of the two-node flannel-style VXLAN lab (src/lab/lab.ts):
 *
 *   namespace A ("node 1")                         namespace B ("node 2")
 *   pod address 10.244.0.10 on lo
 *   flannel.1 10.244.0.0/32 (vxlan 1, 8472)        flannel.1 10.244.1.0/32
 *        |  noudpcsum, local 192.168.189.4              |  pod address 10.244.1.10 on lo:
 *   vla 192.168.189.4/24  <====== veth =======>  vlb 192.168.189.5/24   DNS :53, TCP echo :5000,
 *                                                                         UDP sink :9999
 */
export const UNDERLAY_A = '192.168.189.4';
export const UNDERLAY_B = '192.168.189.5';
export const OVERLAY_A = '10.244.0.0';
export const OVERLAY_B = '10.244.1.0';
export const POD_B = '10.244.1.10';
/** A pod address of node 1's: clients bound to it send from node 1's pod subnet, as a pod would. */
export const POD_A = '10.244.0.10';
export const FLANNEL_PORT = 8472;
export const FLANNEL_VNI = 1;
export const DNS_PORT = 53;
export const TCP_PORT = 5000;
export const SINK_PORT = 9999;

export interface LabMacs {
  vla: string;
  vlb: string;
  flannelA: string;
  flannelB: string;
}
