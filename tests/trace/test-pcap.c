/* test-pcap.c: the capture file of --pcap, read back with libpcap.
 *
 * The first tests run the flagship scenario into a capture and hold it to
 * what Wireshark relies on: valid IPv4, TCP and UDP checksums, a three-way
 * handshake opening every connection, sequence and acknowledgement numbers
 * that follow each other, time that never goes back, the same bytes the
 * trace carried, and the same file on every run.  The rest emit a few
 * stream events by hand to pin down segmentation, refusal and loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>

#include "scenario/scenario.h"
#include "trace/sim-pcap.h"

enum
{
  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_PSH = 0x08,
  TCP_ACK = 0x10,
};

/* One packet of a capture, decoded. */
typedef struct
{
  SimTime time;          /* simulated time, from the pcap timestamp */
  GBytes *raw;           /* the IPv4 packet */
  guint8 protocol;
  guint8 ttl;
  guint32 source;
  guint32 destination;
  guint16 source_port;
  guint16 destination_port;
  guint32 seq;
  guint32 ack;
  guint8 flags;
  const guint8 *payload;
  gsize payload_length;
} Packet;

static void
packet_free (gpointer data)
{
  Packet *packet = data;

  g_bytes_unref (packet->raw);
  g_free (packet);
}

static guint16
get16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* RFC 1071 sum, folded but not complemented: a valid header sums to 0xffff. */
static guint16
ones_sum (guint64 sum, const guint8 *data, gsize length)
{
  gsize i;

  for (i = 0; i + 1 < length; i += 2)
    sum += (guint64) get16 (data + i);
  if (i < length)
    sum += (guint64) (data[i] << 8);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) sum;
}

static gboolean
transport_checksum_valid (const guint8 *ip, gsize total)
{
  guint8 pseudo[12];
  gsize header = (gsize) (ip[0] & 0x0f) * 4;

  memcpy (pseudo, ip + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = ip[9];
  pseudo[10] = (guint8) ((total - header) >> 8);
  pseudo[11] = (guint8) (total - header);
  return ones_sum (ones_sum (0, pseudo, sizeof pseudo), ip + header, total - header) == 0xffff;
}

/* Reads @path with libpcap; every packet's lengths and checksums are
 * checked on the way. */
static GPtrArray *
read_capture (const char *path)
{
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *pcap = pcap_open_offline (path, errbuf);
  GPtrArray *packets = g_ptr_array_new_with_free_func (packet_free);
  struct pcap_pkthdr *header;
  const u_char *data;

  if (pcap == NULL)
    fail_msg ("pcap_open_offline %s: %s", path, errbuf);
  assert_int_equal (pcap_datalink (pcap), DLT_RAW);
  while (pcap_next_ex (pcap, &header, &data) == 1)
    {
      Packet *packet = g_new0 (Packet, 1);
      const guint8 *ip;
      gsize header_length;

      assert_int_equal (header->caplen, header->len);
      assert_true (header->len >= 20);
      packet->time = ((SimTime) header->ts.tv_sec - SIM_TIME_EPOCH_UNIX) * SIM_TIME_SECOND + header->ts.tv_usec;
      /* libpcap reuses its buffer: the payload pointers point into a copy. */
      packet->raw = g_bytes_new (data, header->len);
      ip = g_bytes_get_data (packet->raw, NULL);
      assert_int_equal (ip[0] >> 4, 4);
      header_length = (gsize) (ip[0] & 0x0f) * 4;
      assert_int_equal (header_length, 20);
      assert_int_equal (get16 (ip + 2), header->len);
      assert_int_equal (ones_sum (0, ip, header_length), 0xffff);
      assert_true (transport_checksum_valid (ip, header->len));
      packet->ttl = ip[8];
      packet->protocol = ip[9];
      packet->source = get32 (ip + 12);
      packet->destination = get32 (ip + 16);
      packet->source_port = get16 (ip + header_length);
      packet->destination_port = get16 (ip + header_length + 2);
      if (packet->protocol == 6)
        {
          const guint8 *tcp = ip + header_length;
          gsize offset = (gsize) (tcp[12] >> 4) * 4;
          packet->seq = get32 (tcp + 4);
          packet->ack = get32 (tcp + 8);
          packet->flags = tcp[13];
          packet->payload = tcp + offset;
          packet->payload_length = header->len - header_length - offset;
        }
      else
        {
          assert_int_equal (packet->protocol, 17);
          assert_int_equal (get16 (ip + header_length + 4), header->len - header_length);
          packet->payload = ip + header_length + 8;
          packet->payload_length = header->len - header_length - 8;
        }
      g_ptr_array_add (packets, packet);
    }
  pcap_close (pcap);
  return packets;
}

/* The bytes of each connection and direction, from the trace or the
 * capture: key "connection/c" or "connection/s" in the trace, the
 * four-tuple in the capture. */
typedef struct
{
  char *directory;
  char *path;
  GHashTable *trace_streams;   /* "id/c" -> GByteArray */
  GPtrArray *trace_datagrams;  /* GBytes, in emission order */
  GPtrArray *trace_connections;/* "source:port>destination:port" of each CONNECT, in order */
  GArray *trace_connection_ids;/* guint64, the connection of each */
} Fixture;

static void
fixture_free (Fixture *fixture)
{
  g_autofree char *directory = fixture->directory;

  g_unlink (fixture->path);
  g_rmdir (directory);
  g_free (fixture->path);
  g_hash_table_destroy (fixture->trace_streams);
  g_ptr_array_unref (fixture->trace_datagrams);
  g_ptr_array_unref (fixture->trace_connections);
  g_array_unref (fixture->trace_connection_ids);
  g_free (fixture);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

static char *
four_tuple (guint32 source, guint16 source_port, guint32 destination, guint16 destination_port)
{
  return g_strdup_printf ("%08x:%u>%08x:%u", source, source_port, destination, destination_port);
}

static Fixture *
fixture_new (void)
{
  Fixture *fixture = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;

  fixture->directory = g_dir_make_tmp ("mailsim-pcap-XXXXXX", &error);
  assert_null (error);
  fixture->path = g_build_filename (fixture->directory, "run.pcap", NULL);
  fixture->trace_streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) g_byte_array_unref);
  fixture->trace_datagrams = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fixture->trace_connections = g_ptr_array_new_with_free_func (g_free);
  fixture->trace_connection_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  return fixture;
}

/* Runs the flagship scenario with a capture into @fixture->path, keeping
 * what the trace said went over the wire. */
static Fixture *
run_first_email (void)
{
  Fixture *fixture = fixture_new ();
  g_autofree char *scenario_path = g_build_filename (MAILSIM_SOURCE_ROOT, "scenarios", "first-email.mailsim", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Scenario) scenario = scenario_load (scenario_path, &error);

  assert_null (error);
  g_autoptr (SimWorld) world = scenario_build (scenario, scenario_get_seed (scenario), &error);
  assert_null (error);
  SimTrace *trace = sim_world_get_trace (world);
  sim_trace_set_keep (trace, TRUE);
  assert_true (sim_pcap_attach (trace, fixture->path, &error));
  ScenarioVerdict verdict = scenario_run (scenario, world);
  assert_int_equal (verdict.failed, 0);

  GPtrArray *events = sim_trace_get_events (trace);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind == SIM_EVENT_CONNECT)
        {
          g_ptr_array_add (fixture->trace_connections,
                           four_tuple (event->from_address, event->from_port, event->to_address, event->to_port));
          g_array_append_val (fixture->trace_connection_ids, event->connection);
        }
      if (event->kind == SIM_EVENT_DATAGRAM)
        g_ptr_array_add (fixture->trace_datagrams, g_bytes_ref (event->bytes));
      if (event->kind != SIM_EVENT_DATA)
        continue;
      g_autofree char *key = g_strdup_printf ("%" G_GUINT64_FORMAT "/%c", event->connection,
                                              event->from_client ? 'c' : 's');
      GByteArray *stream = g_hash_table_lookup (fixture->trace_streams, key);
      if (stream == NULL)
        {
          stream = g_byte_array_new ();
          g_hash_table_insert (fixture->trace_streams, g_steal_pointer (&key), stream);
        }
      g_byte_array_append (stream, g_bytes_get_data (event->bytes, NULL), (guint) g_bytes_get_size (event->bytes));
    }
  /* Freeing the world frees the trace, which completes the file. */
  return fixture;
}

static gboolean
is_tcp (const Packet *packet)
{
  return packet->protocol == 6;
}

/* The packets of one TCP connection, client's direction first. */
static GPtrArray *
connection_packets (GPtrArray *packets, const char *client_tuple)
{
  GPtrArray *selected = g_ptr_array_new ();

  for (guint i = 0; i < packets->len; i++)
    {
      Packet *packet = g_ptr_array_index (packets, i);
      g_autofree char *forward = four_tuple (packet->source, packet->source_port, packet->destination,
                                             packet->destination_port);
      g_autofree char *backward = four_tuple (packet->destination, packet->destination_port, packet->source,
                                              packet->source_port);
      if (is_tcp (packet) && (g_str_equal (forward, client_tuple) || g_str_equal (backward, client_tuple)))
        g_ptr_array_add (selected, packet);
    }
  return selected;
}

static gboolean
from_client (const Packet *packet, const char *client_tuple)
{
  g_autofree char *forward = four_tuple (packet->source, packet->source_port, packet->destination,
                                         packet->destination_port);
  return g_str_equal (forward, client_tuple);
}

static void
test_first_email_capture_has_tcp_and_udp_packets (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);
  guint tcp = 0, udp = 0;

  assert_true (packets->len > 0);
  for (guint i = 0; i < packets->len; i++)
    {
      Packet *packet = g_ptr_array_index (packets, i);
      if (is_tcp (packet))
        tcp++;
      else
        udp++;
    }
  /* Four connections (submission, relay, LMTP, IMAP); every DNS datagram. */
  assert_int_equal (fixture->trace_connections->len, 4);
  assert_true (tcp > 4 * 5);
  assert_int_equal (udp, fixture->trace_datagrams->len);
}

static void
test_time_starts_at_the_simulated_epoch_and_never_goes_back (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);
  const Packet *first = g_ptr_array_index (packets, 0);

  /* The timeline sends Alice's mail at 1s: the first SYN leaves then. */
  assert_int_equal (first->time, 1 * SIM_TIME_SECOND);
  assert_int_equal (first->flags, TCP_SYN);
  for (guint i = 1; i < packets->len; i++)
    {
      const Packet *previous = g_ptr_array_index (packets, i - 1);
      const Packet *packet = g_ptr_array_index (packets, i);
      assert_true (packet->time >= previous->time);
    }
}

static void
test_every_connection_opens_with_syn_syn_ack_ack (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);

  for (guint c = 0; c < fixture->trace_connections->len; c++)
    {
      const char *tuple = g_ptr_array_index (fixture->trace_connections, c);
      g_autoptr (GPtrArray) connection = connection_packets (packets, tuple);
      assert_true (connection->len >= 3);
      const Packet *syn = g_ptr_array_index (connection, 0);
      const Packet *syn_ack = g_ptr_array_index (connection, 1);
      const Packet *ack = g_ptr_array_index (connection, 2);
      assert_true (from_client (syn, tuple));
      assert_int_equal (syn->flags, TCP_SYN);
      assert_false (from_client (syn_ack, tuple));
      assert_int_equal (syn_ack->flags, TCP_SYN | TCP_ACK);
      assert_int_equal (syn_ack->ack, syn->seq + 1);
      assert_true (from_client (ack, tuple));
      assert_int_equal (ack->flags, TCP_ACK);
      assert_int_equal (ack->seq, syn->seq + 1);
      assert_int_equal (ack->ack, syn_ack->seq + 1);
      assert_int_equal (ack->payload_length, 0);
    }
}

/* In each direction every segment starts where the previous one ended; an
 * acknowledgement never runs ahead of what the other side has sent and
 * never goes back; every byte and every FIN ends up acknowledged. */
static void
test_sequence_and_acknowledgement_numbers_follow_each_other (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);

  for (guint c = 0; c < fixture->trace_connections->len; c++)
    {
      const char *tuple = g_ptr_array_index (fixture->trace_connections, c);
      g_autoptr (GPtrArray) connection = connection_packets (packets, tuple);
      guint32 next[2] = { 0, 0 };     /* client, server: the next sequence number */
      guint32 last_ack[2] = { 0, 0 };
      gboolean started[2] = { FALSE, FALSE };
      gboolean fin[2] = { FALSE, FALSE };

      for (guint i = 0; i < connection->len; i++)
        {
          const Packet *packet = g_ptr_array_index (connection, i);
          int side = from_client (packet, tuple) ? 0 : 1;
          guint32 length = (guint32) packet->payload_length + ((packet->flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);

          if (started[side])
            assert_int_equal (packet->seq, next[side]);
          started[side] = TRUE;
          assert_false (fin[side] && length > 0);
          next[side] = packet->seq + length;
          fin[side] |= (packet->flags & TCP_FIN) != 0;
          if (packet->flags & TCP_ACK)
            {
              /* Unsigned distances: the numbers wrap around 2^32. */
              assert_true (packet->ack - last_ack[side] < G_MAXINT32 || last_ack[side] == 0);
              assert_true (next[1 - side] - packet->ack < G_MAXINT32);
              last_ack[side] = packet->ack;
            }
        }
      assert_true (fin[0] && fin[1]);
      assert_int_equal (last_ack[0], next[1]);
      assert_int_equal (last_ack[1], next[0]);
    }
}

/* The payloads, put together per connection and direction, are the bytes
 * of the trace's DATA events in order; the UDP payloads are its datagrams. */
static void
test_payloads_are_the_bytes_of_the_trace (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);
  guint datagram = 0;

  for (guint c = 0; c < fixture->trace_connections->len; c++)
    {
      const char *tuple = g_ptr_array_index (fixture->trace_connections, c);
      g_autoptr (GPtrArray) connection = connection_packets (packets, tuple);
      GByteArray *sent[2] = { g_byte_array_new (), g_byte_array_new () };

      for (guint i = 0; i < connection->len; i++)
        {
          const Packet *packet = g_ptr_array_index (connection, i);
          assert_true (packet->payload_length <= SIM_PCAP_MSS);
          g_byte_array_append (sent[from_client (packet, tuple) ? 0 : 1], packet->payload,
                               (guint) packet->payload_length);
        }
      for (int side = 0; side < 2; side++)
        {
          g_autofree char *key = g_strdup_printf ("%" G_GUINT64_FORMAT "/%c",
                                                  g_array_index (fixture->trace_connection_ids, guint64, c),
                                                  side == 0 ? 'c' : 's');
          GByteArray *expected = g_hash_table_lookup (fixture->trace_streams, key);
          assert_non_null (expected);
          assert_int_equal (sent[side]->len, expected->len);
          assert_memory_equal (sent[side]->data, expected->data, expected->len);
          g_byte_array_unref (sent[side]);
        }
    }
  for (guint i = 0; i < packets->len; i++)
    {
      const Packet *packet = g_ptr_array_index (packets, i);
      if (is_tcp (packet))
        continue;
      GBytes *expected = g_ptr_array_index (fixture->trace_datagrams, datagram++);
      assert_int_equal (packet->payload_length, g_bytes_get_size (expected));
      assert_memory_equal (packet->payload, g_bytes_get_data (expected, NULL), packet->payload_length);
    }
}

/* The first SMTP command on the wire is the client's EHLO, and the last
 * ones before the close are the transaction's, as the narration shows. */
static void
test_smtp_commands_leave_in_narration_order (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);
  const char *tuple = g_ptr_array_index (fixture->trace_connections, 0);
  g_autoptr (GPtrArray) connection = connection_packets (packets, tuple);
  g_autoptr (GString) commands = g_string_new (NULL);

  for (guint i = 0; i < connection->len; i++)
    {
      const Packet *packet = g_ptr_array_index (connection, i);
      if (!from_client (packet, tuple) || packet->payload_length < 4)
        continue;
      if (packet->payload_length > 200)
        {
          g_string_append (commands, "<message> ");
          continue;
        }
      g_string_append_len (commands, (const char *) packet->payload, 4);
      g_string_append_c (commands, ' ');
    }
  assert_string_equal (commands->str, "EHLO AUTH MAIL RCPT DATA <message> QUIT ");
}

/* The server's packets cross the Internet router on the way to the relay
 * client: one hop less TTL than what the client sends. */
static void
test_ttl_drops_by_one_per_router (void **state)
{
  g_autoptr (Fixture) fixture = run_first_email ();
  g_autoptr (GPtrArray) packets = read_capture (fixture->path);
  const char *relay = g_ptr_array_index (fixture->trace_connections, 1);
  g_autoptr (GPtrArray) connection = connection_packets (packets, relay);

  for (guint i = 0; i < connection->len; i++)
    {
      const Packet *packet = g_ptr_array_index (connection, i);
      assert_int_equal (packet->ttl, from_client (packet, relay) ? SIM_PCAP_TTL : SIM_PCAP_TTL - 1);
    }
}

static void
test_two_runs_write_the_same_file (void **state)
{
  g_autoptr (Fixture) first = run_first_email ();
  g_autoptr (Fixture) second = run_first_email ();
  g_autofree char *a = NULL, *b = NULL;
  gsize a_length = 0, b_length = 0;

  assert_true (g_file_get_contents (first->path, &a, &a_length, NULL));
  assert_true (g_file_get_contents (second->path, &b, &b_length, NULL));
  assert_true (a_length > 24);
  assert_int_equal (a_length, b_length);
  assert_memory_equal (a, b, a_length);
}

/* ---- hand-made traces ---- */

#define CLIENT_ADDRESS 0xc000020a  /* 192.0.2.10 */
#define SERVER_ADDRESS 0xc0000219  /* 192.0.2.25 */
#define LATENCY (20 * SIM_TIME_MSEC)

static void
emit_stream (SimTrace *trace, SimEventKind kind, gboolean client, SimTime time, const char *text)
{
  SimEvent event = { 0 };
  g_autoptr (GBytes) bytes = text != NULL ? g_bytes_new (text, strlen (text)) : NULL;

  event.kind = kind;
  event.time = time;
  event.arrival = time + LATENCY;
  event.from = client ? "client" : "server";
  event.to = client ? "server" : "client";
  event.from_address = client ? CLIENT_ADDRESS : SERVER_ADDRESS;
  event.to_address = client ? SERVER_ADDRESS : CLIENT_ADDRESS;
  event.from_port = client ? 49152 : 25;
  event.to_port = client ? 25 : 49152;
  event.connection = 1;
  event.from_client = client;
  event.protocol = "smtp";
  event.bytes = bytes;
  sim_trace_emit (trace, &event);
}

static GPtrArray *
capture_of (Fixture *fixture, void (*script) (SimTrace *trace))
{
  g_autoptr (GError) error = NULL;
  SimTrace *trace = sim_trace_new ();

  assert_true (sim_pcap_attach (trace, fixture->path, &error));
  script (trace);
  sim_trace_free (trace);
  return read_capture (fixture->path);
}

static void
script_large_write (SimTrace *trace)
{
  g_autofree char *body = g_strnfill (2 * SIM_PCAP_MSS + 100, 'x');

  emit_stream (trace, SIM_EVENT_CONNECT, TRUE, 0, NULL);
  emit_stream (trace, SIM_EVENT_ACCEPT, FALSE, LATENCY, NULL);
  emit_stream (trace, SIM_EVENT_DATA, TRUE, 2 * LATENCY, body);
  emit_stream (trace, SIM_EVENT_CLOSE, TRUE, 2 * LATENCY, NULL);
  emit_stream (trace, SIM_EVENT_CLOSE, FALSE, 3 * LATENCY, NULL);
}

static void
test_a_large_write_is_cut_into_segments_of_one_mss (void **state)
{
  g_autoptr (Fixture) fixture = fixture_new ();
  g_autoptr (GPtrArray) packets = capture_of (fixture, script_large_write);
  /* SYN, SYN-ACK, ACK, three data segments, FIN, ACK of the data and FIN
   * together with the server's FIN, final ACK. */
  static const struct { gboolean client; guint8 flags; gsize length; SimTime time; } expected[] = {
    { TRUE, TCP_SYN, 0, 0 },
    { FALSE, TCP_SYN | TCP_ACK, 0, 2 * LATENCY },
    { TRUE, TCP_ACK, 0, 2 * LATENCY },
    { TRUE, TCP_ACK, SIM_PCAP_MSS, 2 * LATENCY },
    { TRUE, TCP_ACK, SIM_PCAP_MSS, 2 * LATENCY },
    { TRUE, TCP_ACK | TCP_PSH, 100, 2 * LATENCY },
    { TRUE, TCP_FIN | TCP_ACK, 0, 2 * LATENCY },
    { FALSE, TCP_FIN | TCP_ACK, 0, 4 * LATENCY },
    { TRUE, TCP_ACK, 0, 4 * LATENCY },
  };

  assert_int_equal (packets->len, G_N_ELEMENTS (expected));
  for (guint i = 0; i < packets->len; i++)
    {
      const Packet *packet = g_ptr_array_index (packets, i);
      assert_int_equal (packet->source == CLIENT_ADDRESS, expected[i].client);
      assert_int_equal (packet->flags, expected[i].flags);
      assert_int_equal (packet->payload_length, expected[i].length);
      assert_int_equal (packet->time, expected[i].time);
    }
  const Packet *syn = g_ptr_array_index (packets, 0);
  const Packet *server_fin = g_ptr_array_index (packets, 7);
  /* The server's FIN acknowledges every byte and the client's FIN. */
  assert_int_equal (server_fin->ack, syn->seq + 1 + 2 * SIM_PCAP_MSS + 100 + 1);
}

static void
script_refused (SimTrace *trace)
{
  emit_stream (trace, SIM_EVENT_CONNECT, TRUE, 0, NULL);
  emit_stream (trace, SIM_EVENT_REFUSED, FALSE, LATENCY, NULL);
}

static void
test_a_refused_connection_is_a_syn_answered_by_rst (void **state)
{
  g_autoptr (Fixture) fixture = fixture_new ();
  g_autoptr (GPtrArray) packets = capture_of (fixture, script_refused);

  assert_int_equal (packets->len, 2);
  const Packet *syn = g_ptr_array_index (packets, 0);
  const Packet *rst = g_ptr_array_index (packets, 1);
  assert_int_equal (syn->flags, TCP_SYN);
  /* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
  assert_int_equal (rst->flags, TCP_RST | TCP_ACK);
  assert_int_equal (rst->seq, 0);
  assert_int_equal (rst->ack, syn->seq + 1);
  assert_int_equal (rst->time, 2 * LATENCY);
}

static void
script_server_segment_lost (SimTrace *trace)
{
  emit_stream (trace, SIM_EVENT_CONNECT, TRUE, 0, NULL);
  emit_stream (trace, SIM_EVENT_ACCEPT, FALSE, LATENCY, NULL);
  emit_stream (trace, SIM_EVENT_DATA, FALSE, LATENCY, "220 ready\r\n");
  emit_stream (trace, SIM_EVENT_DATA, TRUE, 2 * LATENCY, "QUIT\r\n");
  emit_stream (trace, SIM_EVENT_LOST, FALSE, 3 * LATENCY, "221 bye\r\n");
  emit_stream (trace, SIM_EVENT_LOST, TRUE, 4 * LATENCY, "NOOP\r\n");
}

/* Seen from the client: what the client sent is on the wire even when it
 * is lost later; the server's lost reply never reached the capture, and
 * the acknowledgement of QUIT it carried was lost with it. */
static void
test_lost_segments_appear_only_when_they_passed_the_client (void **state)
{
  g_autoptr (Fixture) fixture = fixture_new ();
  g_autoptr (GPtrArray) packets = capture_of (fixture, script_server_segment_lost);
  g_autoptr (GString) payloads = g_string_new (NULL);

  for (guint i = 0; i < packets->len; i++)
    {
      const Packet *packet = g_ptr_array_index (packets, i);
      g_string_append_len (payloads, (const char *) packet->payload, (gssize) packet->payload_length);
    }
  assert_string_equal (payloads->str, "220 ready\r\nQUIT\r\nNOOP\r\n");
  /* SYN, SYN-ACK, ACK, 220, QUIT, NOOP. */
  assert_int_equal (packets->len, 6);
}

static void
test_an_unwritable_path_is_an_error (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SimTrace) trace = sim_trace_new ();

  assert_false (sim_pcap_attach (trace, "/nonexistent-directory/run.pcap", &error));
  assert_true (g_error_matches (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_OPEN));
  assert_non_null (strstr (error->message, "/nonexistent-directory/run.pcap"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_first_email_capture_has_tcp_and_udp_packets),
    cmocka_unit_test (test_time_starts_at_the_simulated_epoch_and_never_goes_back),
    cmocka_unit_test (test_every_connection_opens_with_syn_syn_ack_ack),
    cmocka_unit_test (test_sequence_and_acknowledgement_numbers_follow_each_other),
    cmocka_unit_test (test_payloads_are_the_bytes_of_the_trace),
    cmocka_unit_test (test_smtp_commands_leave_in_narration_order),
    cmocka_unit_test (test_ttl_drops_by_one_per_router),
    cmocka_unit_test (test_two_runs_write_the_same_file),
    cmocka_unit_test (test_a_large_write_is_cut_into_segments_of_one_mss),
    cmocka_unit_test (test_a_refused_connection_is_a_syn_answered_by_rst),
    cmocka_unit_test (test_lost_segments_appear_only_when_they_passed_the_client),
    cmocka_unit_test (test_an_unwritable_path_is_an_error),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
