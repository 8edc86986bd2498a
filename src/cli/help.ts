/** The text of `csumtop --help`; the README's usage section repeats it. */
export const HELP = `Usage: csumtop -r FILE [options]

Finds packets with bad checksums (IPv4 header, UDP, TCP, ICMP, ICMPv6), at the outer
layer and inside VXLAN, Geneve and IP-in-IP tunnels, and reports them per interface,
per layer and per flow.

Capture files:
  -r, --read FILE        analyse a pcap or pcapng file ("-" reads standard input)
  -w, --write FILE       write every frame with a bad checksum to FILE (same format
                         as the input; an existing regular file is replaced, a
                         symlink is never followed; created with mode 0600)
      --json             print the report as one JSON document
      --list             also list every frame with a bad checksum
      --top N            flows shown in the text report (default 20; --json has all)

Decoding:
      --vxlan-port P[,P] UDP destination ports decoded as VXLAN (default 4789,8472)
      --geneve-port P    UDP destination ports decoded as Geneve (default 6081)
      --max-flows N      bad flows kept (default 65536); more are counted, not kept

  -h, --help             this text
  -V, --version          the version

Exit status:
  0  no bad checksum found
  1  at least one bad checksum found
  2  usage error, unreadable or corrupt input, or the -w file could not be written
     (a report of what was read before the corruption is still printed)

Environment:
  CSUMTOP_CSUM_PATH      force a checksum engine: scalar, adc64, sse2, avx2, neon
  CSUMTOP_THREADS        threads for -r FILE (default: the CPUs csumtop may use; 1: one)
  NO_COLOR               no colour in any output

Live capture (sudo csumtop) is not available yet: see the README.
`;
