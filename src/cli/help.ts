/** The text of `csumtop --help`; the README's usage section follows it. */
export const HELP = `Usage: csumtop [live options]          capture live (root or CAP_NET_RAW)
       csumtop -r FILE [file options]   analyse a pcap or pcapng file
       csumtop --demo [--demo-broken]   a two-node VXLAN lab with faults, on the dashboard (root)
       csumtop cluster --prometheus URL  bad VXLAN carriers node x peer, from Prometheus

On a terminal csumtop shows a live dashboard (keys: ? for help, q to quit); with --json,
--duration, --report, -w, --metrics, or when standard output is not a terminal it
prints the report.

Finds packets with bad checksums (IPv4 header, UDP, TCP, ICMP, ICMPv6), at the outer
layer and inside VXLAN, Geneve and IP-in-IP tunnels, and reports them per interface,
per layer and per flow. Live, the kernel says which checksums are still to be filled in
by the NIC (pending) or already verified (validated): offload is not an error.

Live capture:
  -i, --interface LIST   interfaces, comma-separated, globs allowed ('eth0,flannel.*');
                         default: every interface that is up except loopback
      --netns NAME|PATH  capture in that network namespace (repeatable)
      --pid PID          capture in the network namespace of process PID (repeatable)
      --host             with --netns/--pid, also capture in csumtop's own namespace
      --duration N       stop after N seconds and print the report (default: at Ctrl-C)
      --json             JSON lines: stats per interface per interval, one line per bad
                         frame, interface events, warnings, and the final report
  -f, --filter EXPR      tcpdump filter syntax (needs libpcap installed at run time;
                         at most 64 KiB, compiled within 10 s)
      --promisc          promiscuous mode (off by default)
  -Z, --user NAME        drop to NAME once the capture sockets are open
      --backend B        afpacket (default) or libpcap (through the optional package
                         cap: no kernel checksum status, offload is guessed; needs
                         --promisc; own namespace only)
      --threads N        capture threads; each interface is spread over them
      --no-kernel-drops  do not load the eBPF program that has the kernel name each
                         packet it drops for a bad checksum (namespace, device, reason,
                         peer); it is on by default with CAP_BPF + CAP_PERFMON (root)
      --ring-mb N        capture ring per interface and thread, MiB (default 8)
      --batch-ms N       how often the capture thread hands over counts (default 100)
      --interval N       seconds between dashboard redraws / stats lines (default 1)
      --report           on a terminal too: no dashboard, the report at the end
      --demo             build a two-node VXLAN lab in network namespaces (root), run
                         DNS and TCP through it, inject checksum faults in bursts and
                         show the dashboard on both nodes; the lab is removed on exit
      --demo-broken      --demo with node 1 switched into variant A's broken state
                         (udpcsum VXLAN + MASQUERADE --random-fully: bad outer checksums)
      --metrics [ADDR:]PORT  serve Prometheus metrics at /metrics and health at
                         /healthz; ADDR defaults to 127.0.0.1 (0.0.0.0 or [::] for all,
                         [::1]:PORT for IPv6); port 0 picks a free one (printed)
      --metrics-max-peers N  peers with their own label (default 64); more are
                         counted under peer="other"
  -w, --write FILE       write every frame with a bad checksum to FILE, a pcap file
                         (Ethernet; Linux cooked v2 when some interface has no
                         Ethernet header) written by the capture threads, each record
                         whole: readable after a crash or SIGKILL; mode 0600, a symlink
                         is refused; opened before --user drops root
  -C SIZE                with -w: start a new file once the current one is larger than
                         SIZE million bytes (1-100000): FILE, FILE1, FILE2, ... (tcpdump)
  -W COUNT               with -C: at most COUNT files (1-100000), FILE0 .. FILE<COUNT-1>,
                         then the oldest is overwritten (tcpdump)
      --context N        with -w: also the N frames (0-64, default 0) of the same flow
                         before and after each bad frame, each written once

Capture files:
  -r, --read FILE        analyse a pcap or pcapng file ("-" reads standard input)
  -w, --write FILE       write every frame with a bad checksum to FILE (same format as
                         the input; an existing regular file is replaced, a symlink is
                         never followed; created with mode 0600)
      --json             print the report as one JSON document
      --fast             on a terminal: replay into the dashboard as fast as possible
                         (default: at the recorded speed); the final view stays
      --report           on a terminal too: print the report instead of the dashboard
      --no-correlate     checksum verdicts only (no peers, DNS/SYN symptoms or findings):
                         the file is decoded on every core, several times faster

Both:
      --list             also list every frame with a bad checksum
      --top N            flows shown in the text report (default 20; --json has all)
      --vxlan-port P[,P] UDP destination ports decoded as VXLAN (default 4789,8472)
      --geneve-port P    UDP destination ports decoded as Geneve (default 6081)
      --max-flows N      flows kept per table (default 65536): bad flows (per capture
                         thread), carrier flows, open DNS queries, SYN attempts; more
                         are counted as evicted (report: correlation.tables). Memory
                         grows with it: RSS stayed under 320 MiB + 10 KiB x N with a
                         million new flows (test/lab/million-flows.test.ts)
  -h, --help             this text
  -V, --version          the version

Exit status:
  0  no bad checksum found
  1  at least one bad checksum found
  2  usage error, unreadable or corrupt input, no such interface or namespace, or the
     -w file could not be written (a report of what was read is still printed; live,
     a write error such as a full disk is a warning and capture goes on)
  3  not allowed: CAP_NET_RAW missing to capture, CAP_SYS_ADMIN to enter --netns/--pid
     namespaces, root for --user and --demo
  Signals: SIGINT, SIGTERM and SIGHUP stop a live capture (report, dashboard, --demo)
     as --duration would: the report is printed and the status is as above. They stop
     -r FILE early: the report of what was read says "interrupted", status 128+N
     (130 SIGINT, 143 SIGTERM, 129 SIGHUP); -r from a pipe ("-r -") is ended by the
     signal itself at once, before printing anything. A second signal while stopping,
     or a stop making no progress for 5 s (no output drained, no work done), exits
     at once with 128+N; the terminal is restored, the --demo lab removed, -w files hold whole records.

Environment:
  CSUMTOP_CSUM_PATH      force a checksum engine: scalar, adc64, sse2, avx2, neon
  CSUMTOP_THREADS        threads for -r FILE (default: the CPUs csumtop may use; 1: one)
`;
