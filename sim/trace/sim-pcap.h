/* sim-pcap.h: the run's traffic as a capture file Wireshark opens.
 *
 * The simulation moves whole writes and whole datagrams between nodes; a
 * capture holds packets.  This sink rebuilds what the wire would carry:
 * IPv4 with TCP (handshake, sequence and acknowledgement numbers, segments
 * of at most one MSS, acknowledgements, FIN and RST) or UDP, with correct
 * checksums, timestamped in simulated time on the simulated calendar.
 *
 * Capture point: each connection is seen from its client's side, as if
 * Wireshark ran on the host that opened it.  Packets the client sends are
 * recorded when they leave it, packets the server sends when they reach the
 * client.  A UDP exchange is seen from the side that sent its first
 * datagram.  So a packet lost on the way appears only if it had already
 * passed the capture point.  docs/trace-format.md has the details.
 */
#pragma once

#include <glib.h>

#include "trace/sim-trace.h"

G_BEGIN_DECLS

#define SIM_PCAP_ERROR (sim_pcap_error_quark ())
typedef enum
{
  SIM_PCAP_ERROR_OPEN,
} SimPcapError;
GQuark sim_pcap_error_quark (void);

/* RFC 9293 3.7.1: the largest payload of a segment, for a 1500-octet
 * Ethernet MTU less 20 octets of IPv4 and 20 of TCP header. */
#define SIM_PCAP_MSS 1460
/* RFC 7323 2: every side offers window scaling, so a large message in
 * flight never fills the advertised window. */
#define SIM_PCAP_WINDOW_SCALE 7
/* The TTL a packet leaves its host with; each router on the way takes one. */
#define SIM_PCAP_TTL 64
#define SIM_PCAP_SNAPLEN 65535

/* Adds a sink that writes the trace's transmissions to @path as a pcap file
 * of raw IPv4 packets ("-" writes to standard output).  The file is
 * complete once @trace is freed.  FALSE with @error when it cannot be
 * created. */
gboolean sim_pcap_attach (SimTrace *trace, const char *path, GError **error);

G_END_DECLS
