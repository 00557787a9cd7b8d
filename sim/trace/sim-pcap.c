/* sim-pcap.c: the run's traffic as a pcap capture file.
 *
 * Events arrive in the order of their time, but what they put on the wire
 * is recorded later: a server's segment when it reaches the client, an
 * acknowledgement when the receiver sends it.  Packets therefore wait in a
 * queue ordered by (capture time, creation order) and are written once no
 * later event can produce an earlier packet: every event at time t makes
 * packets captured at t or after.
 *
 * Acknowledgements follow the receiver: a segment is acknowledged by the
 * first segment its receiver sends at or after its arrival, or, when the
 * receiver sends nothing at that instant, by a pure ACK at the arrival.
 * Whether the receiver answered at that instant is known once an event
 * with a later time comes, so pure ACKs are made then.
 */
#include "trace/sim-pcap.h"

#include <pcap/pcap.h>
#include <string.h>

G_DEFINE_QUARK (sim-pcap-error-quark, sim_pcap_error)

enum
{
  IPV4_HEADER_LENGTH = 20,
  IPV4_DONT_FRAGMENT = 0x4000,
  IP_PROTOCOL_TCP = 6,
  IP_PROTOCOL_UDP = 17,
  TCP_HEADER_LENGTH = 20,
  TCP_CHECKSUM_OFFSET = 16,
  TCP_SYN_OPTIONS_LENGTH = 8,   /* MSS (4), NOP (1), window scale (3) */
  TCP_MAX_WINDOW = 65535,
  UDP_HEADER_LENGTH = 8,
  UDP_CHECKSUM_OFFSET = 6,
  UDP_MAX_PAYLOAD = 65535 - IPV4_HEADER_LENGTH - UDP_HEADER_LENGTH,
};

/* RFC 9293 3.1: control bits. */
enum
{
  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_PSH = 0x08,
  TCP_ACK = 0x10,
};

/* No arrival: the segment never reaches the other side. */
#define NEVER_ARRIVES (-1)

typedef struct
{
  SimTime arrival;   /* when the segment reaches the endpoint */
  guint32 end;       /* the sequence number just past it */
} PcapArrival;

typedef struct
{
  guint32 address;
  guint16 port;
  gboolean is_client;
  guint32 send_next;       /* RFC 9293 SND.NXT */
  guint32 receive_next;    /* RFC 9293 RCV.NXT: the peer's sequence space received so far */
  guint32 ack_sent;        /* the last acknowledgement this side sent */
  gboolean fin_sent;
  guint16 ip_id;
  GQueue arriving;         /* PcapArrival*: the peer's segments still on the way here */
} PcapEndpoint;

typedef enum
{
  PCAP_TCP_SYN_SENT,
  PCAP_TCP_OPEN,
  PCAP_TCP_GONE,
} PcapTcpState;

typedef struct
{
  guint64 id;
  PcapTcpState state;
  SimTime latency;   /* one way */
  guint hops;        /* routers between the ends: each lowers the TTL */
  PcapEndpoint client;
  PcapEndpoint server;
} PcapConnection;

typedef struct
{
  guint32 initiator_address;
  guint16 initiator_port;
  guint16 ip_id[2];   /* from the initiator, from the responder */
} PcapFlow;

typedef struct
{
  SimTime time;
  guint64 order;
  GBytes *packet;
} PcapPacket;

typedef struct
{
  pcap_t *pcap;
  pcap_dumper_t *dumper;
  char *path;
  GHashTable *connections;  /* id -> PcapConnection*, lookups only; owns them */
  GPtrArray *active;        /* PcapConnection* not yet gone, in order of creation */
  GHashTable *flows;        /* "a:p-b:p" -> PcapFlow*, lookups only; owns them */
  GSequence *pending;       /* PcapPacket* by (time, order) */
  guint64 next_order;
  SimTime now;
  SimTime last_written;
} SimPcap;

/* ---- bytes on the wire ---- */

static void
put16 (guint8 *p, guint16 value)
{
  p[0] = (guint8) (value >> 8);
  p[1] = (guint8) value;
}

static void
put32 (guint8 *p, guint32 value)
{
  p[0] = (guint8) (value >> 24);
  p[1] = (guint8) (value >> 16);
  p[2] = (guint8) (value >> 8);
  p[3] = (guint8) value;
}

/* RFC 1071: the Internet checksum, a one's complement sum of 16-bit words. */
static guint64
checksum_add (guint64 sum, const guint8 *data, gsize length)
{
  gsize i;

  for (i = 0; i + 1 < length; i += 2)
    sum += (guint64) ((data[i] << 8) | data[i + 1]);
  if (i < length)
    sum += (guint64) (data[i] << 8);
  return sum;
}

static guint16
checksum_finish (guint64 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

/* Wraps @transport (a TCP or UDP header and its payload, checksum field at
 * @checksum_offset still zero) in an IPv4 header, filling both checksums. */
static GBytes *
ipv4_packet_new (guint32 source, guint32 destination, guint8 protocol, guint8 ttl, guint16 ip_id,
                 guint8 *transport, gsize transport_length, gsize checksum_offset)
{
  gsize total = IPV4_HEADER_LENGTH + transport_length;
  guint8 *packet = g_malloc (total);
  guint8 pseudo[12];
  guint16 checksum;

  /* RFC 9293 3.1 and RFC 768: the transport checksum covers a pseudo
   * header of addresses, protocol and length. */
  put32 (pseudo, source);
  put32 (pseudo + 4, destination);
  pseudo[8] = 0;
  pseudo[9] = protocol;
  put16 (pseudo + 10, (guint16) transport_length);
  checksum = checksum_finish (checksum_add (checksum_add (0, pseudo, sizeof pseudo), transport, transport_length));
  /* RFC 768: a computed UDP checksum of zero is sent as all ones. */
  if (protocol == IP_PROTOCOL_UDP && checksum == 0)
    checksum = 0xffff;
  put16 (transport + checksum_offset, checksum);

  /* RFC 791 3.1 */
  packet[0] = 0x45;   /* version 4, header of five 32-bit words */
  packet[1] = 0;
  put16 (packet + 2, (guint16) total);
  put16 (packet + 4, ip_id);
  put16 (packet + 6, protocol == IP_PROTOCOL_TCP ? IPV4_DONT_FRAGMENT : 0);
  packet[8] = ttl;
  packet[9] = protocol;
  put16 (packet + 10, 0);
  put32 (packet + 12, source);
  put32 (packet + 16, destination);
  put16 (packet + 10, checksum_finish (checksum_add (0, packet, IPV4_HEADER_LENGTH)));
  memcpy (packet + IPV4_HEADER_LENGTH, transport, transport_length);
  return g_bytes_new_take (packet, total);
}

/* ---- the capture queue ---- */

static void
pcap_packet_free (gpointer data)
{
  PcapPacket *packet = data;

  g_bytes_unref (packet->packet);
  g_free (packet);
}

static gint
pcap_packet_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const PcapPacket *x = a, *y = b;

  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static void
pending_add (SimPcap *self, SimTime time, GBytes *packet)
{
  PcapPacket *entry = g_new (PcapPacket, 1);

  entry->time = time;
  entry->order = self->next_order++;
  entry->packet = packet;
  g_sequence_insert_sorted (self->pending, entry, pcap_packet_compare, NULL);
}

static void
write_packet (SimPcap *self, const PcapPacket *packet)
{
  struct pcap_pkthdr header = { 0 };
  gsize length;
  const guint8 *data = g_bytes_get_data (packet->packet, &length);
  SimTime time = packet->time;

  if (time < self->last_written)
    {
      g_warning ("pcap %s: a packet at %" G_GINT64_FORMAT "us came after one at %" G_GINT64_FORMAT "us",
                 self->path, time, self->last_written);
      time = self->last_written;
    }
  self->last_written = time;
  /* Time 0 is the simulated epoch, so Wireshark shows the run's calendar. */
  header.ts.tv_sec = (time_t) (SIM_TIME_EPOCH_UNIX + time / SIM_TIME_SECOND);
  header.ts.tv_usec = (suseconds_t) (time % SIM_TIME_SECOND);
  header.caplen = (bpf_u_int32) length;
  header.len = (bpf_u_int32) length;
  pcap_dump ((u_char *) self->dumper, &header, data);
}

/* Writes every queued packet captured before @time. */
static void
pending_flush_before (SimPcap *self, SimTime time)
{
  while (!g_sequence_is_empty (self->pending))
    {
      GSequenceIter *first = g_sequence_get_begin_iter (self->pending);
      PcapPacket *packet = g_sequence_get (first);

      if (packet->time >= time)
        break;
      write_packet (self, packet);
      g_sequence_remove (first);
    }
}

/* ---- TCP ---- */

/* RFC 9293 3.4.1 wants initial sequence numbers hard to guess; a lesson
 * wants the same capture on every run.  A fixed mix of the connection id
 * (the splitmix64 finaliser) looks random in Wireshark and never changes. */
static guint64
mix (guint64 x)
{
  x ^= x >> 30;
  x *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

static void
endpoint_init (PcapEndpoint *endpoint, guint64 connection, gboolean is_client, guint32 address, guint16 port)
{
  guint64 bits = mix (connection * 2 + (is_client ? 0 : 1));

  endpoint->address = address;
  endpoint->port = port;
  endpoint->is_client = is_client;
  endpoint->send_next = (guint32) bits;
  endpoint->ip_id = (guint16) (bits >> 32);
  g_queue_init (&endpoint->arriving);
}

static void
endpoint_clear (PcapEndpoint *endpoint)
{
  g_queue_clear_full (&endpoint->arriving, g_free);
}

static void
pcap_connection_free (gpointer data)
{
  PcapConnection *connection = data;

  endpoint_clear (&connection->client);
  endpoint_clear (&connection->server);
  g_free (connection);
}

static PcapEndpoint *
connection_peer (PcapConnection *connection, PcapEndpoint *endpoint)
{
  return endpoint == &connection->client ? &connection->server : &connection->client;
}

/* Routers along @path, both ends excluded. */
static guint
path_hops (GPtrArray *path)
{
  return path != NULL && path->len > 2 ? path->len - 2 : 0;
}

/* Takes in what reached @endpoint by @time. */
static void
endpoint_receive (PcapEndpoint *endpoint, SimTime time)
{
  PcapArrival *head;

  while ((head = g_queue_peek_head (&endpoint->arriving)) != NULL && head->arrival <= time)
    {
      endpoint->receive_next = head->end;
      g_free (g_queue_pop_head (&endpoint->arriving));
    }
}

/* @from sends one segment at its own clock's @time.  It reaches the peer at
 * @arrival, or never (NEVER_ARRIVES).  A segment lost before the capture
 * point (@seen FALSE) still takes its sequence numbers and carries its
 * acknowledgement away. */
static void
tcp_send (SimPcap *self, PcapConnection *connection, PcapEndpoint *from, SimTime time, guint8 flags,
          const guint8 *payload, gsize length, SimTime arrival, gboolean seen)
{
  PcapEndpoint *to = connection_peer (connection, from);
  gsize options = (flags & TCP_SYN) ? TCP_SYN_OPTIONS_LENGTH : 0;
  gsize header = TCP_HEADER_LENGTH + options;
  g_autofree guint8 *segment = g_malloc0 (header + length);
  guint32 ack = 0;
  guint32 consumed = (guint32) length + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
  SimTime captured = from->is_client ? time : time + connection->latency;
  guint8 ttl = (guint8) (SIM_PCAP_TTL - (from->is_client ? 0 : MIN (connection->hops, SIM_PCAP_TTL - 1)));

  if (flags & TCP_ACK)
    {
      endpoint_receive (from, time);
      ack = from->receive_next;
      from->ack_sent = ack;
    }
  /* RFC 9293 3.1 */
  put16 (segment, from->port);
  put16 (segment + 2, to->port);
  put32 (segment + 4, from->send_next);
  put32 (segment + 8, ack);
  segment[12] = (guint8) ((header / 4) << 4);
  segment[13] = flags;
  /* RFC 7323 2.2: the window of a SYN is never scaled; afterwards the
   * largest window, scaled, is offered throughout. */
  put16 (segment + 14, TCP_MAX_WINDOW);
  if (options > 0)
    {
      guint8 *option = segment + TCP_HEADER_LENGTH;
      option[0] = 2;   /* RFC 9293 3.7.1: maximum segment size */
      option[1] = 4;
      put16 (option + 2, SIM_PCAP_MSS);
      option[4] = 1;   /* no-operation, to align what follows */
      option[5] = 3;   /* RFC 7323 2.2: window scale */
      option[6] = 3;
      option[7] = SIM_PCAP_WINDOW_SCALE;
    }
  if (length > 0)
    memcpy (segment + header, payload, length);
  if (seen)
    pending_add (self, captured,
                 ipv4_packet_new (from->address, to->address, IP_PROTOCOL_TCP, ttl, from->ip_id,
                                  segment, header + length, TCP_CHECKSUM_OFFSET));
  from->ip_id++;
  from->send_next += consumed;
  if ((flags & TCP_FIN) != 0)
    from->fin_sent = TRUE;
  if (consumed > 0 && arrival != NEVER_ARRIVES)
    {
      PcapArrival *entry = g_new (PcapArrival, 1);
      entry->arrival = arrival;
      entry->end = from->send_next;
      g_queue_push_tail (&to->arriving, entry);
    }
}

/* One write becomes segments of at most one MSS; the last one pushes. */
static void
tcp_send_data (SimPcap *self, PcapConnection *connection, PcapEndpoint *from, SimTime time,
               GBytes *bytes, SimTime arrival, gboolean seen)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  for (gsize offset = 0; offset < length; offset += SIM_PCAP_MSS)
    {
      gsize chunk = MIN (length - offset, (gsize) SIM_PCAP_MSS);
      guint8 flags = TCP_ACK | (offset + chunk == length ? TCP_PSH : 0);
      tcp_send (self, connection, from, time, flags, data + offset, chunk, arrival, seen);
    }
}

static PcapConnection *
connection_new (SimPcap *self, guint64 id, PcapTcpState state, guint32 client_address, guint16 client_port,
                guint32 server_address, guint16 server_port, SimTime latency, guint hops)
{
  PcapConnection *connection = g_new0 (PcapConnection, 1);

  connection->id = id;
  connection->state = state;
  connection->latency = latency;
  connection->hops = hops;
  endpoint_init (&connection->client, id, TRUE, client_address, client_port);
  endpoint_init (&connection->server, id, FALSE, server_address, server_port);
  g_hash_table_insert (self->connections, &connection->id, connection);
  g_ptr_array_add (self->active, connection);
  return connection;
}

static void
connection_gone (SimPcap *self, PcapConnection *connection)
{
  connection->state = PCAP_TCP_GONE;
  g_ptr_array_remove (self->active, connection);
}

/* The connection of a stream event.  One whose opening the trace never
 * showed (a sink attached mid-run) starts open, without a handshake. */
static PcapConnection *
connection_for_event (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = g_hash_table_lookup (self->connections, &event->connection);

  if (connection != NULL)
    return connection;
  if (event->from_client)
    connection = connection_new (self, event->connection, PCAP_TCP_OPEN, event->from_address, event->from_port,
                                 event->to_address, event->to_port, event->arrival - event->time,
                                 path_hops (event->path));
  else
    connection = connection_new (self, event->connection, PCAP_TCP_OPEN, event->to_address, event->to_port,
                                 event->from_address, event->from_port, event->arrival - event->time,
                                 path_hops (event->path));
  connection->client.receive_next = connection->server.send_next;
  connection->client.ack_sent = connection->server.send_next;
  connection->server.receive_next = connection->client.send_next;
  connection->server.ack_sent = connection->client.send_next;
  return connection;
}

static PcapEndpoint *
connection_sender (PcapConnection *connection, const SimEvent *event)
{
  return event->from_client ? &connection->client : &connection->server;
}

/* Makes the pure ACKs of everything that arrived before @time and that its
 * receiver did not acknowledge by sending at the same instant. */
static void
acknowledge_before (SimPcap *self, SimTime time)
{
  for (guint i = 0; i < self->active->len;)
    {
      PcapConnection *connection = g_ptr_array_index (self->active, i);
      PcapEndpoint *ends[] = { &connection->client, &connection->server };

      if (connection->state != PCAP_TCP_OPEN)
        {
          i++;
          continue;
        }
      for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
        {
          PcapArrival *head;
          while ((head = g_queue_peek_head (&ends[e]->arriving)) != NULL && head->arrival < time)
            {
              SimTime arrival = head->arrival;
              endpoint_receive (ends[e], arrival);
              if (ends[e]->receive_next != ends[e]->ack_sent)
                tcp_send (self, connection, ends[e], arrival, TCP_ACK, NULL, 0, NEVER_ARRIVES, TRUE);
            }
        }
      /* RFC 9293 3.6: both FINs sent and acknowledged; nothing more comes. */
      if (connection->client.fin_sent && connection->server.fin_sent
          && g_queue_is_empty (&connection->client.arriving) && g_queue_is_empty (&connection->server.arriving))
        connection_gone (self, connection);
      else
        i++;
    }
}

static void
on_connect (SimPcap *self, const SimEvent *event)
{
  gboolean reaches = event->kind == SIM_EVENT_CONNECT;
  PcapConnection *connection = connection_new (self, event->connection, PCAP_TCP_SYN_SENT,
                                               event->from_address, event->from_port,
                                               event->to_address, event->to_port,
                                               event->arrival - event->time, path_hops (event->path));

  /* An unreachable host still sees the client's SYN leave; no answer comes. */
  tcp_send (self, connection, &connection->client, event->time, TCP_SYN, NULL, 0,
            reaches ? event->arrival : NEVER_ARRIVES, TRUE);
  if (!reaches)
    connection_gone (self, connection);
}

static void
on_accept (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = connection_for_event (self, event);

  if (connection->state != PCAP_TCP_SYN_SENT)
    return;
  connection->state = PCAP_TCP_OPEN;
  tcp_send (self, connection, &connection->server, event->time, TCP_SYN | TCP_ACK, NULL, 0, event->arrival, TRUE);
  /* The third segment of the handshake leaves as the SYN-ACK arrives,
   * before anything else the server sent can be acknowledged. */
  tcp_send (self, connection, &connection->client, event->arrival, TCP_ACK, NULL, 0, NEVER_ARRIVES, TRUE);
}

static void
on_refused (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = connection_for_event (self, event);

  if (connection->state != PCAP_TCP_SYN_SENT)
    return;
  /* RFC 9293 3.10.7.1: a closed port answers a SYN with
   * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
  connection->server.send_next = 0;
  tcp_send (self, connection, &connection->server, event->time, TCP_RST | TCP_ACK, NULL, 0, NEVER_ARRIVES, TRUE);
  connection_gone (self, connection);
}

static void
on_reset (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = connection_for_event (self, event);

  if (connection->state == PCAP_TCP_GONE)
    return;
  tcp_send (self, connection, connection_sender (connection, event), event->time, TCP_RST | TCP_ACK, NULL, 0,
            NEVER_ARRIVES, TRUE);
  connection_gone (self, connection);
}

static void
on_stream_lost (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = connection_for_event (self, event);
  PcapEndpoint *from = connection_sender (connection, event);

  if (event->bytes == NULL)
    {
      /* The SYN left (CONNECT wrote it) but met no live host. */
      connection_gone (self, connection);
      return;
    }
  if (connection->state == PCAP_TCP_GONE)
    return;
  /* The client's segment had left its host; the server's was lost before
   * it reached the client's side, so the capture never saw it. */
  tcp_send_data (self, connection, from, event->time, event->bytes, NEVER_ARRIVES, from->is_client);
}

/* What bytes sent under (simulated) STARTTLS look like on the wire: one TLS
 * application-data record (RFC 8446 5.2: type 23, legacy version 3.3,
 * length) holding the plaintext's length plus the inner type and a 16-octet
 * tag, filled with a keystream derived from the bytes, so Wireshark and
 * students see opaque data while the file stays the same on every run. */
static GBytes *
tls_record_for (GBytes *plaintext)
{
  gsize length = g_bytes_get_size (plaintext) + 1 + 16;
  GByteArray *record = g_byte_array_sized_new ((guint) (length + 5));
  guint8 header[5] = { 23, 3, 3, (guint8) (length >> 8), (guint8) (length & 0xff) };
  g_autoptr (GChecksum) seed = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 block[32];
  gsize block_length = sizeof block;

  g_byte_array_append (record, header, sizeof header);
  g_checksum_update (seed, g_bytes_get_data (plaintext, NULL), (gssize) g_bytes_get_size (plaintext));
  g_checksum_get_digest (seed, block, &block_length);
  for (guint32 counter = 0; record->len < length + 5; counter++)
    {
      g_autoptr (GChecksum) next = g_checksum_new (G_CHECKSUM_SHA256);
      guint8 counter_bytes[4] = { (guint8) (counter >> 24), (guint8) (counter >> 16), (guint8) (counter >> 8),
                                  (guint8) counter };
      g_checksum_update (next, block, (gssize) sizeof block);
      g_checksum_update (next, counter_bytes, sizeof counter_bytes);
      guint8 stream[32];
      gsize stream_length = sizeof stream;
      g_checksum_get_digest (next, stream, &stream_length);
      g_byte_array_append (record, stream, (guint) MIN (stream_length, length + 5 - record->len));
    }
  return g_byte_array_free_to_bytes (record);
}

static void
on_stream (SimPcap *self, const SimEvent *event)
{
  PcapConnection *connection = connection_for_event (self, event);
  PcapEndpoint *from = connection_sender (connection, event);

  if (connection->state != PCAP_TCP_OPEN || from->fin_sent)
    return;
  if (event->kind == SIM_EVENT_DATA && event->bytes != NULL && event->encrypted)
    {
      g_autoptr (GBytes) record = tls_record_for (event->bytes);
      tcp_send_data (self, connection, from, event->time, record, event->arrival, TRUE);
    }
  else if (event->kind == SIM_EVENT_DATA && event->bytes != NULL)
    tcp_send_data (self, connection, from, event->time, event->bytes, event->arrival, TRUE);
  else if (event->kind == SIM_EVENT_CLOSE)
    tcp_send (self, connection, from, event->time, TCP_FIN | TCP_ACK, NULL, 0, event->arrival, TRUE);
}

/* ---- UDP ---- */

static void
on_datagram (SimPcap *self, const SimEvent *event)
{
  guint32 a_address = event->from_address, b_address = event->to_address;
  guint16 a_port = event->from_port, b_port = event->to_port;
  g_autofree char *key = NULL;
  PcapFlow *flow;
  gboolean from_initiator;
  gsize length = event->bytes != NULL ? g_bytes_get_size (event->bytes) : 0;
  g_autofree guint8 *datagram = NULL;
  guint hops;

  if (a_address > b_address || (a_address == b_address && a_port > b_port))
    {
      a_address = event->to_address;
      a_port = event->to_port;
      b_address = event->from_address;
      b_port = event->from_port;
    }
  key = g_strdup_printf ("%08x:%u-%08x:%u", a_address, a_port, b_address, b_port);
  flow = g_hash_table_lookup (self->flows, key);
  if (flow == NULL)
    {
      flow = g_new0 (PcapFlow, 1);
      flow->initiator_address = event->from_address;
      flow->initiator_port = event->from_port;
      /* Identification numbers start somewhere fixed per flow, like the
       * sequence numbers; the count of flows seen so far is deterministic. */
      flow->ip_id[0] = (guint16) mix (G_GUINT64_CONSTANT (0x75647000) + g_hash_table_size (self->flows));
      flow->ip_id[1] = (guint16) (mix (G_GUINT64_CONSTANT (0x75647000) + g_hash_table_size (self->flows)) >> 16);
      g_hash_table_insert (self->flows, g_steal_pointer (&key), flow);
    }
  from_initiator = flow->initiator_address == event->from_address && flow->initiator_port == event->from_port;
  /* Seen from the initiator: its datagrams when they leave, the answers
   * when they arrive; a lost answer never reached it. */
  if (!from_initiator && event->kind == SIM_EVENT_LOST)
    return;
  if (length > UDP_MAX_PAYLOAD)
    {
      g_warning ("pcap %s: a datagram of %" G_GSIZE_FORMAT " bytes does not fit in one IPv4 packet", self->path,
                 length);
      return;
    }
  datagram = g_malloc0 (UDP_HEADER_LENGTH + length);
  /* RFC 768 */
  put16 (datagram, event->from_port);
  put16 (datagram + 2, event->to_port);
  put16 (datagram + 4, (guint16) (UDP_HEADER_LENGTH + length));
  if (length > 0)
    memcpy (datagram + UDP_HEADER_LENGTH, g_bytes_get_data (event->bytes, NULL), length);
  hops = from_initiator ? 0 : MIN (path_hops (event->path), SIM_PCAP_TTL - 1);
  pending_add (self, from_initiator ? event->time : event->arrival,
               ipv4_packet_new (event->from_address, event->to_address, IP_PROTOCOL_UDP,
                                (guint8) (SIM_PCAP_TTL - hops), flow->ip_id[from_initiator ? 0 : 1]++,
                                datagram, UDP_HEADER_LENGTH + length, UDP_CHECKSUM_OFFSET));
}

/* ---- the sink ---- */

/* Everything that can make a packet captured before @time has been seen. */
static void
pcap_advance (SimPcap *self, SimTime time)
{
  if (time < self->now)
    return;
  self->now = time;
  acknowledge_before (self, time);
  pending_flush_before (self, time);
}

static void
pcap_sink (const SimEvent *event, gpointer user_data)
{
  SimPcap *self = user_data;

  switch (event->kind)
    {
    case SIM_EVENT_CONNECT:
    case SIM_EVENT_ACCEPT:
    case SIM_EVENT_REFUSED:
    case SIM_EVENT_UNREACHABLE:
    case SIM_EVENT_DATA:
    case SIM_EVENT_CLOSE:
    case SIM_EVENT_RESET:
    case SIM_EVENT_DATAGRAM:
    case SIM_EVENT_LOST:
      break;
    case SIM_EVENT_MAIL:
    case SIM_EVENT_ACTION:
    case SIM_EVENT_NOTE:
    case SIM_EVENT_EXPECT:
    default:
      return;
    }
  /* Transmissions are emitted at the simulation's present, in order. */
  pcap_advance (self, event->time);
  switch (event->kind)
    {
    case SIM_EVENT_CONNECT:
    case SIM_EVENT_UNREACHABLE:
      on_connect (self, event);
      break;
    case SIM_EVENT_ACCEPT:
      on_accept (self, event);
      break;
    case SIM_EVENT_REFUSED:
      on_refused (self, event);
      break;
    case SIM_EVENT_RESET:
      on_reset (self, event);
      break;
    case SIM_EVENT_DATA:
    case SIM_EVENT_CLOSE:
      on_stream (self, event);
      break;
    case SIM_EVENT_DATAGRAM:
      on_datagram (self, event);
      break;
    case SIM_EVENT_LOST:
      if (event->connection != 0)
        on_stream_lost (self, event);
      else
        on_datagram (self, event);
      break;
    default:
      break;
    }
}

static void
sim_pcap_free (gpointer data)
{
  SimPcap *self = data;

  /* The run is over: every owed acknowledgement goes out, then the rest. */
  pcap_advance (self, SIM_TIME_NEVER);
  if (pcap_dump_flush (self->dumper) != 0 || ferror (pcap_dump_file (self->dumper)))
    g_warning ("pcap %s: could not write the capture file", self->path);
  pcap_dump_close (self->dumper);
  pcap_close (self->pcap);
  g_sequence_free (self->pending);
  g_ptr_array_unref (self->active);
  g_hash_table_destroy (self->connections);
  g_hash_table_destroy (self->flows);
  g_free (self->path);
  g_free (self);
}

gboolean
sim_pcap_attach (SimTrace *trace, const char *path, GError **error)
{
  SimPcap *self;
  pcap_t *pcap;
  pcap_dumper_t *dumper;

  g_return_val_if_fail (path != NULL, FALSE);
  pcap = pcap_open_dead (DLT_RAW, SIM_PCAP_SNAPLEN);
  if (pcap == NULL)
    {
      g_set_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_OPEN, "%s: libpcap cannot make a raw IPv4 capture", path);
      return FALSE;
    }
  dumper = pcap_dump_open (pcap, path);
  if (dumper == NULL)
    {
      /* libpcap's message names the file and the reason. */
      g_set_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_OPEN,
                   "cannot write the capture file: %s; check that its folder exists and can be written",
                   pcap_geterr (pcap));
      pcap_close (pcap);
      return FALSE;
    }
  self = g_new0 (SimPcap, 1);
  self->pcap = pcap;
  self->dumper = dumper;
  self->path = g_strdup (path);
  self->connections = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, pcap_connection_free);
  self->active = g_ptr_array_new ();
  self->flows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pending = g_sequence_new (pcap_packet_free);
  sim_trace_add_sink (trace, pcap_sink, self, sim_pcap_free);
  return TRUE;
}
