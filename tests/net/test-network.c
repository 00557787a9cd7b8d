/* test-network.c: nodes, links, routes, virtual streams and datagrams. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/sim-network.h"

#define MS SIM_TIME_MSEC

/* ---- a small world: scheduler, trace that keeps its events, network ---- */

typedef struct
{
  SimScheduler *scheduler;
  SimTrace *trace;
  SimNetwork *network;
} World;

static World *
world_new (void)
{
  World *world = g_new0 (World, 1);

  world->scheduler = sim_scheduler_new (1);
  world->trace = sim_trace_new ();
  sim_trace_set_keep (world->trace, TRUE);
  world->network = sim_network_new (world->scheduler, world->trace);
  return world;
}

static void
world_free (World *world)
{
  /* Pending deliveries hold streams: the scheduler goes after the network
   * has let go of its own references. */
  sim_network_free (world->network);
  sim_scheduler_free (world->scheduler);
  sim_trace_free (world->trace);
  g_free (world);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (World, world_free)

static SimNode *
add_node (World *world, const char *name, const char *address)
{
  g_autoptr(GError) error = NULL;
  guint32 value = 0;

  assert_true (sim_address_parse (address, &value));
  SimNode *node = sim_network_add_node (world->network, name, value, &error);
  assert_non_null (node);
  assert_null (error);
  return node;
}

static SimLink *
add_link (World *world, SimNode *a, SimNode *b, SimTime latency)
{
  g_autoptr(GError) error = NULL;
  SimLink *link = sim_network_add_link (world->network, a, b, latency, &error);

  assert_non_null (link);
  assert_null (error);
  return link;
}

static void
run (World *world)
{
  sim_scheduler_run_until (world->scheduler, SIM_TIME_NEVER);
}

static guint
count_events (World *world, SimEventKind kind)
{
  GPtrArray *events = sim_trace_get_events (world->trace);
  guint count = 0;

  for (guint i = 0; i < events->len; i++)
    if (((SimEvent *) g_ptr_array_index (events, i))->kind == kind)
      count++;
  return count;
}

/* The @n-th (from 0) event of @kind; fails the test when there is none. */
static const SimEvent *
nth_event (World *world, SimEventKind kind, guint n)
{
  GPtrArray *events = sim_trace_get_events (world->trace);

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->kind == kind && n-- == 0)
        return event;
    }
  fail_msg ("no %s event number %u in the trace", sim_event_kind_to_string (kind), n);
  return NULL;
}

static char *
path_to_string (GPtrArray *path)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; path != NULL && i < path->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "", (const char *) g_ptr_array_index (path, i));
  return g_string_free (text, FALSE);
}

static void
assert_route (World *world, SimNode *from, SimNode *to, const char *expected_path, SimTime expected_latency)
{
  GPtrArray *path = NULL;
  SimTime latency = -1;

  assert_true (sim_network_route (world->network, from, to, &path, &latency));
  g_autofree char *text = path_to_string (path);
  assert_string_equal (text, expected_path);
  assert_int_equal (latency, expected_latency);
  g_ptr_array_unref (path);
}

/* ---- addresses, nodes, links ---- */

static void
test_address_parse_and_print (void **state)
{
  guint32 address = 0;
  char text[16];

  assert_true (sim_address_parse ("192.0.2.25", &address));
  assert_int_equal (address, (192u << 24) | (0 << 16) | (2 << 8) | 25);
  assert_string_equal (sim_address_to_string (address, text), "192.0.2.25");
  assert_true (sim_address_parse ("0.0.0.0", &address));
  assert_true (sim_address_parse ("255.255.255.255", &address));
  assert_int_equal (address, 0xffffffffu);
  assert_false (sim_address_parse ("256.0.0.1", &address));
  assert_false (sim_address_parse ("1.2.3", &address));
  assert_false (sim_address_parse ("1.2.3.4.5", &address));
  assert_false (sim_address_parse ("1.2.3.", &address));
  assert_false (sim_address_parse ("1234.1.1.1", &address));
  assert_false (sim_address_parse ("a.b.c.d", &address));
  assert_false (sim_address_parse ("", &address));
}

static void
test_duplicate_node_name_or_address_is_refused (void **state)
{
  g_autoptr(World) world = world_new ();
  g_autoptr(GError) error = NULL;

  add_node (world, "mx", "10.0.0.1");
  assert_null (sim_network_add_node (world->network, "mx", 0x0a000002, &error));
  assert_true (g_error_matches (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_DUPLICATE));
  g_clear_error (&error);
  assert_null (sim_network_add_node (world->network, "other", 0x0a000001, &error));
  assert_true (g_error_matches (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_ADDRESS));
  assert_non_null (strstr (error->message, "10.0.0.1"));
  assert_non_null (strstr (error->message, "'mx'"));
  assert_int_equal (sim_network_get_nodes (world->network)->len, 1);
}

static void
test_link_needs_two_nodes_and_is_unique (void **state)
{
  g_autoptr(World) world = world_new ();
  g_autoptr(GError) error = NULL;
  SimNode *a = add_node (world, "a", "10.0.0.1");
  SimNode *b = add_node (world, "b", "10.0.0.2");

  assert_null (sim_network_add_link (world->network, a, a, MS, &error));
  assert_true (g_error_matches (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_LINK));
  g_clear_error (&error);
  SimLink *link = add_link (world, a, b, 4 * MS);
  assert_null (sim_network_add_link (world->network, b, a, MS, &error));
  assert_true (g_error_matches (error, SIM_NETWORK_ERROR, SIM_NETWORK_ERROR_DUPLICATE));
  assert_ptr_equal (sim_network_find_link (world->network, b, a), link);
  assert_ptr_equal (sim_network_find_node_by_address (world->network, 0x0a000002), b);
  assert_ptr_equal (sim_network_find_node (world->network, "a"), a);
  assert_null (sim_network_find_node (world->network, "c"));
}

/* ---- routes ----
 *
 *        b             10 + 10 = 20 ms through b
 *      /   \
 *     a --- d          50 ms direct
 *      \   /
 *        c             5 + 30 = 35 ms through c
 */
typedef struct
{
  World *world;
  SimNode *a, *b, *c, *d;
  SimLink *ab, *bd, *ac, *cd, *ad;
} Diamond;

static void
diamond_init (Diamond *diamond, World *world)
{
  diamond->world = world;
  diamond->a = add_node (world, "a", "10.0.0.1");
  diamond->b = add_node (world, "b", "10.0.0.2");
  diamond->c = add_node (world, "c", "10.0.0.3");
  diamond->d = add_node (world, "d", "10.0.0.4");
  diamond->ab = add_link (world, diamond->a, diamond->b, 10 * MS);
  diamond->bd = add_link (world, diamond->b, diamond->d, 10 * MS);
  diamond->ac = add_link (world, diamond->a, diamond->c, 5 * MS);
  diamond->cd = add_link (world, diamond->c, diamond->d, 30 * MS);
  diamond->ad = add_link (world, diamond->a, diamond->d, 50 * MS);
}

static void
test_route_takes_the_least_total_latency (void **state)
{
  g_autoptr(World) world = world_new ();
  Diamond n;

  diamond_init (&n, world);
  assert_route (world, n.a, n.d, "a b d", 20 * MS);
  assert_route (world, n.d, n.a, "d b a", 20 * MS);
  assert_route (world, n.c, n.b, "c a b", 15 * MS);
  assert_route (world, n.a, n.a, "a", 0);
}

static void
test_route_ties_are_broken_by_the_order_nodes_were_added (void **state)
{
  g_autoptr(World) first = world_new ();
  g_autoptr(World) second = world_new ();

  /* Two paths of 20 ms.  The route goes through whichever middle node was
   * added first, on every call, whatever the link order. */
  SimNode *a = add_node (first, "a", "10.0.0.1");
  SimNode *b = add_node (first, "b", "10.0.0.2");
  SimNode *c = add_node (first, "c", "10.0.0.3");
  SimNode *d = add_node (first, "d", "10.0.0.4");
  add_link (first, c, d, 10 * MS);
  add_link (first, a, c, 10 * MS);
  add_link (first, a, b, 10 * MS);
  add_link (first, b, d, 10 * MS);
  for (int i = 0; i < 3; i++)
    assert_route (first, a, d, "a b d", 20 * MS);

  a = add_node (second, "a", "10.0.0.1");
  c = add_node (second, "c", "10.0.0.3");
  b = add_node (second, "b", "10.0.0.2");
  d = add_node (second, "d", "10.0.0.4");
  add_link (second, a, b, 10 * MS);
  add_link (second, b, d, 10 * MS);
  add_link (second, a, c, 10 * MS);
  add_link (second, c, d, 10 * MS);
  assert_route (second, a, d, "a c d", 20 * MS);
}

static void
test_down_link_reroutes_then_makes_unreachable (void **state)
{
  g_autoptr(World) world = world_new ();
  Diamond n;

  diamond_init (&n, world);
  sim_link_set_up (n.bd, FALSE);
  assert_false (sim_link_is_up (n.bd));
  assert_route (world, n.a, n.d, "a c d", 35 * MS);
  sim_link_set_up (n.cd, FALSE);
  assert_route (world, n.a, n.d, "a d", 50 * MS);
  sim_link_set_up (n.ad, FALSE);
  assert_false (sim_network_route (world->network, n.a, n.d, NULL, NULL));
  sim_link_set_up (n.bd, TRUE);
  assert_route (world, n.a, n.d, "a b d", 20 * MS);
}

static void
test_latency_change_changes_the_route (void **state)
{
  g_autoptr(World) world = world_new ();
  Diamond n;

  diamond_init (&n, world);
  sim_link_set_latency (n.ab, 40 * MS);
  assert_int_equal (sim_link_get_latency (n.ab), 40 * MS);
  assert_route (world, n.a, n.d, "a c d", 35 * MS);
}

static void
test_down_node_forwards_nothing_and_cannot_be_reached (void **state)
{
  g_autoptr(World) world = world_new ();
  Diamond n;

  diamond_init (&n, world);
  sim_node_set_up (n.b, FALSE);
  assert_false (sim_node_is_up (n.b));
  assert_route (world, n.a, n.d, "a c d", 35 * MS);
  assert_false (sim_network_route (world->network, n.a, n.b, NULL, NULL));
  assert_false (sim_network_route (world->network, n.b, n.a, NULL, NULL));
}

/* ---- streams ---- */

/* Everything that happened to one side of a connection, with times. */
typedef struct
{
  World *world;
  SimStream *stream;
  GString *log;             /* "connected@20ms received(one)@30ms ..." */
  GString *received;        /* concatenated payloads */
  gboolean failed;
  SimStreamError error;
  SimTime failed_at;
  gboolean close_on_fin;    /* close this side when the peer's FIN arrives */
  gboolean echo;            /* write back whatever arrives */
} Side;

static void
side_init (Side *side, World *world)
{
  memset (side, 0, sizeof *side);
  side->world = world;
  side->log = g_string_new (NULL);
  side->received = g_string_new (NULL);
}

static void
side_clear (Side *side)
{
  g_string_free (side->log, TRUE);
  g_string_free (side->received, TRUE);
}

static void
side_note (Side *side, const char *what)
{
  g_autofree char *when = sim_time_to_string (sim_scheduler_now (side->world->scheduler));
  g_string_append_printf (side->log, "%s%s@%s", side->log->len > 0 ? " " : "", what, when);
}

static void
on_connected (SimStream *stream, gpointer user_data)
{
  side_note (user_data, "connected");
}

static void
on_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  Side *side = user_data;
  g_autofree char *what = g_strdup_printf ("received(%.*s)", (int) len, (const char *) data);

  side_note (side, what);
  g_string_append_len (side->received, (const char *) data, (gssize) len);
  if (side->echo)
    sim_stream_write (stream, data, len, "test.echo");
}

static void
on_closed (SimStream *stream, gpointer user_data)
{
  Side *side = user_data;

  side_note (side, "closed");
  if (side->close_on_fin)
    sim_stream_close (stream);
}

static void
on_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  Side *side = user_data;

  side_note (side, sim_stream_error_to_string (error));
  side->failed = TRUE;
  side->error = error;
  side->failed_at = sim_scheduler_now (side->world->scheduler);
}

static const SimStreamCallbacks side_callbacks = { on_connected, on_received, on_closed, on_failed };

static void
on_accept (SimStream *stream, gpointer user_data)
{
  Side *server = user_data;

  server->stream = stream;
  side_note (server, "accepted");
  sim_stream_set_handler (stream, &side_callbacks, server);
}

static void
write_text (SimStream *stream, const char *text)
{
  sim_stream_write (stream, (const guint8 *) text, strlen (text), "test.data");
}

/* client ---3ms--- router ---7ms--- server: 10 ms one way. */
typedef struct
{
  World *world;
  SimNode *client, *router, *server;
  SimLink *first, *second;
  Side client_side;
  Side server_side;
} TwoHops;

static void
two_hops_init (TwoHops *net, World *world)
{
  net->world = world;
  net->client = add_node (world, "client", "192.0.2.1");
  net->router = add_node (world, "router", "192.0.2.254");
  net->server = add_node (world, "server", "198.51.100.25");
  net->first = add_link (world, net->client, net->router, 3 * MS);
  net->second = add_link (world, net->router, net->server, 7 * MS);
  side_init (&net->client_side, world);
  side_init (&net->server_side, world);
}

static void
two_hops_clear (TwoHops *net)
{
  side_clear (&net->client_side);
  side_clear (&net->server_side);
}

static SimStream *
two_hops_connect (TwoHops *net, guint16 port)
{
  net->client_side.stream = sim_network_connect (net->world->network, net->client,
                                                 sim_node_get_address (net->server), port,
                                                 &side_callbacks, &net->client_side);
  return net->client_side.stream;
}

static void
test_connect_completes_after_one_round_trip (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  assert_string_equal (sim_stream_get_protocol (stream), "smtp");
  assert_ptr_equal (sim_stream_get_peer_node (stream), net.server);
  run (world);

  assert_string_equal (net.server_side.log->str, "accepted@10ms");
  assert_string_equal (net.client_side.log->str, "connected@20ms");
  assert_ptr_equal (sim_stream_get_node (net.server_side.stream), net.server);
  assert_ptr_equal (sim_stream_get_peer_node (net.server_side.stream), net.client);
  assert_int_equal (sim_stream_get_id (net.server_side.stream), sim_stream_get_id (stream));

  const SimEvent *connect = nth_event (world, SIM_EVENT_CONNECT, 0);
  assert_int_equal (connect->time, 0);
  assert_int_equal (connect->arrival, 10 * MS);
  assert_string_equal (connect->from, "client");
  assert_string_equal (connect->to, "server");
  assert_int_equal (connect->to_port, 25);
  assert_int_equal (connect->from_port, SIM_EPHEMERAL_PORT_FIRST);
  g_autofree char *path = path_to_string (connect->path);
  assert_string_equal (path, "client router server");

  const SimEvent *accept = nth_event (world, SIM_EVENT_ACCEPT, 0);
  assert_int_equal (accept->time, 10 * MS);
  assert_int_equal (accept->arrival, 20 * MS);
  assert_string_equal (accept->from, "server");
  assert_string_equal (accept->to, "client");
  g_autofree char *back = path_to_string (accept->path);
  assert_string_equal (back, "server router client");
  two_hops_clear (&net);
}

static void
test_connect_to_a_closed_port_is_refused_after_one_round_trip (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  two_hops_connect (&net, 26);
  run (world);

  assert_true (net.client_side.failed);
  assert_int_equal (net.client_side.error, SIM_STREAM_REFUSED);
  assert_int_equal (net.client_side.failed_at, 20 * MS);
  assert_string_equal (net.client_side.log->str, "connection refused@20ms");
  assert_string_equal (net.server_side.log->str, "");

  assert_int_equal (count_events (world, SIM_EVENT_REFUSED), 1);
  const SimEvent *refused = nth_event (world, SIM_EVENT_REFUSED, 0);
  assert_int_equal (refused->time, 10 * MS);
  assert_int_equal (refused->arrival, 20 * MS);
  assert_string_equal (refused->from, "server");
  assert_string_equal (refused->to, "client");
  assert_int_equal (refused->from_port, 26);
  assert_int_equal (refused->to_port, SIM_EPHEMERAL_PORT_FIRST);
  assert_string_equal (refused->protocol, "tcp");
  assert_int_equal (count_events (world, SIM_EVENT_ACCEPT), 0);
  two_hops_clear (&net);
}

static void
test_unlisten_makes_the_port_refuse (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  sim_node_unlisten (net.server, 25);
  two_hops_connect (&net, 25);
  run (world);
  assert_int_equal (net.client_side.error, SIM_STREAM_REFUSED);
  two_hops_clear (&net);
}

static void
test_connect_to_a_down_node_is_unreachable_after_the_connect_timeout (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  sim_node_set_up (net.server, FALSE);
  two_hops_connect (&net, 25);
  run (world);

  assert_int_equal (net.client_side.error, SIM_STREAM_UNREACHABLE);
  assert_int_equal (net.client_side.failed_at, SIM_TCP_CONNECT_TIMEOUT);
  assert_string_equal (net.client_side.log->str, "connection timed out@30s");
  assert_int_equal (count_events (world, SIM_EVENT_UNREACHABLE), 1);
  const SimEvent *event = nth_event (world, SIM_EVENT_UNREACHABLE, 0);
  assert_int_equal (event->time, 0);
  assert_string_equal (event->from, "client");
  assert_string_equal (event->to, "server");
  assert_int_equal (count_events (world, SIM_EVENT_CONNECT), 0);
  two_hops_clear (&net);
}

static void
test_connect_to_an_unknown_address_is_unreachable (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  net.client_side.stream = sim_network_connect (world->network, net.client, 0x0a636363, 25,
                                                &side_callbacks, &net.client_side);
  run (world);
  assert_int_equal (net.client_side.error, SIM_STREAM_UNREACHABLE);
  assert_int_equal (net.client_side.failed_at, SIM_TCP_CONNECT_TIMEOUT);
  const SimEvent *event = nth_event (world, SIM_EVENT_UNREACHABLE, 0);
  assert_string_equal (event->to, "");
  assert_int_equal (event->to_address, 0x0a636363);
  two_hops_clear (&net);
}

static void
test_syn_lost_when_the_server_goes_down_in_flight (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 5 * MS);
  sim_node_set_up (net.server, FALSE);
  run (world);

  assert_string_equal (net.server_side.log->str, "");
  assert_int_equal (net.client_side.error, SIM_STREAM_UNREACHABLE);
  /* The attempt gives up a connect timeout after it started, not after the loss. */
  assert_int_equal (net.client_side.failed_at, SIM_TCP_CONNECT_TIMEOUT);
  const SimEvent *lost = nth_event (world, SIM_EVENT_LOST, 0);
  assert_int_equal (lost->time, 10 * MS);
  assert_string_equal (lost->protocol, "tcp");
  two_hops_clear (&net);
}

static void
test_data_arrives_in_order_at_departure_plus_latency (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  net.server_side.echo = TRUE;
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  assert_string_equal (net.client_side.log->str, "connected@20ms");

  write_text (stream, "one ");
  write_text (stream, "two ");
  sim_scheduler_run_until (world->scheduler, 21 * MS);
  write_text (stream, "three");
  run (world);

  assert_string_equal (net.server_side.received->str, "one two three");
  assert_string_equal (net.server_side.log->str,
                       "accepted@10ms received(one )@30ms received(two )@30ms received(three)@31ms");
  assert_string_equal (net.client_side.log->str,
                       "connected@20ms received(one )@40ms received(two )@40ms received(three)@41ms");

  assert_int_equal (count_events (world, SIM_EVENT_DATA), 6);
  const SimEvent *first = nth_event (world, SIM_EVENT_DATA, 0);
  assert_int_equal (first->time, 20 * MS);
  assert_int_equal (first->arrival, 30 * MS);
  assert_true (first->from_client);
  assert_string_equal (first->from, "client");
  assert_string_equal (first->to, "server");
  assert_string_equal (first->explain, "test.data");
  assert_string_equal (first->protocol, "smtp");
  assert_int_equal (g_bytes_get_size (first->bytes), 4);
  g_autofree char *path = path_to_string (first->path);
  assert_string_equal (path, "client router server");
  const SimEvent *echo = nth_event (world, SIM_EVENT_DATA, 3);
  assert_false (echo->from_client);
  assert_string_equal (echo->from, "server");
  assert_int_equal (echo->time, 30 * MS);
  assert_int_equal (echo->arrival, 40 * MS);
  two_hops_clear (&net);
}

static void
test_empty_write_sends_nothing (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  sim_stream_write (stream, (const guint8 *) "", 0, "test.data");
  run (world);
  assert_int_equal (count_events (world, SIM_EVENT_DATA), 0);
  assert_string_equal (net.server_side.log->str, "accepted@10ms");
  two_hops_clear (&net);
}

static void
test_orderly_close_both_ways_ends_the_connection (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  net.server_side.close_on_fin = TRUE;
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  write_text (stream, "QUIT");
  /* Data written before the close arrives before the FIN. */
  sim_stream_close (stream);
  run (world);

  assert_string_equal (net.server_side.log->str, "accepted@10ms received(QUIT)@30ms closed@30ms");
  /* The side that closed first hears nothing more. */
  assert_string_equal (net.client_side.log->str, "connected@20ms");
  assert_int_equal (count_events (world, SIM_EVENT_CLOSE), 2);
  const SimEvent *client_fin = nth_event (world, SIM_EVENT_CLOSE, 0);
  assert_true (client_fin->from_client);
  assert_int_equal (client_fin->time, 20 * MS);
  assert_int_equal (client_fin->arrival, 30 * MS);
  const SimEvent *server_fin = nth_event (world, SIM_EVENT_CLOSE, 1);
  assert_false (server_fin->from_client);
  assert_int_equal (server_fin->time, 30 * MS);
  assert_int_equal (server_fin->arrival, 40 * MS);

  /* Both ends are gone from their nodes: a crash now resets no one. */
  sim_node_set_up (net.server, FALSE);
  sim_node_set_up (net.client, FALSE);
  run (world);
  assert_false (net.client_side.failed);
  assert_false (net.server_side.failed);
  assert_int_equal (sim_scheduler_pending (world->scheduler), 0);
  two_hops_clear (&net);
}

static void
test_half_closed_stream_still_carries_the_other_direction (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  sim_stream_close (stream);
  sim_scheduler_run_until (world->scheduler, 30 * MS);
  assert_string_equal (net.server_side.log->str, "accepted@10ms closed@30ms");
  /* The server's side stays writable until it closes; the client closed
   * and gets no callback, but the bytes still travel and are traced. */
  write_text (net.server_side.stream, "221 bye");
  sim_stream_close (net.server_side.stream);
  run (world);
  assert_int_equal (count_events (world, SIM_EVENT_DATA), 1);
  assert_int_equal (nth_event (world, SIM_EVENT_DATA, 0)->arrival, 40 * MS);
  assert_string_equal (net.client_side.log->str, "connected@20ms");
  two_hops_clear (&net);
}

static void
test_writes_after_close_are_ignored (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  sim_stream_close (stream);
  sim_stream_close (stream);
  write_text (stream, "late");
  run (world);
  assert_int_equal (count_events (world, SIM_EVENT_DATA), 0);
  assert_int_equal (count_events (world, SIM_EVENT_CLOSE), 1);
  assert_string_equal (net.server_side.received->str, "");
  two_hops_clear (&net);
}

static void
test_a_node_going_down_resets_its_peers (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 100 * MS);
  sim_node_set_up (net.server, FALSE);
  run (world);

  assert_true (net.client_side.failed);
  assert_int_equal (net.client_side.error, SIM_STREAM_RESET);
  /* The client learns of the crash one path latency later. */
  assert_int_equal (net.client_side.failed_at, 110 * MS);
  assert_string_equal (net.client_side.log->str, "connected@20ms connection reset@110ms");
  /* The crashed side's own program loses the connection at once, so it
   * lets go of the stream (a session must not outlive it). */
  assert_true (net.server_side.failed);
  assert_int_equal (net.server_side.error, SIM_STREAM_RESET);
  assert_string_equal (net.server_side.log->str, "accepted@10ms connection reset@100ms");
  two_hops_clear (&net);
}

static void
test_listeners_answer_again_when_the_node_comes_back (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  sim_node_set_up (net.server, FALSE);
  sim_node_set_up (net.server, TRUE);
  assert_true (sim_node_is_up (net.server));
  two_hops_connect (&net, 25);
  run (world);
  assert_string_equal (net.client_side.log->str, "connected@20ms");
  two_hops_clear (&net);
}

static void
test_write_over_a_cut_link_is_lost_and_the_writer_is_reset (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  SimStream *stream = two_hops_connect (&net, 25);
  sim_scheduler_run_until (world->scheduler, 20 * MS);
  sim_link_set_up (net.second, FALSE);
  write_text (stream, "MAIL FROM:<a@b>");
  run (world);

  assert_string_equal (net.server_side.received->str, "");
  const SimEvent *lost = nth_event (world, SIM_EVENT_LOST, 0);
  assert_int_equal (lost->time, 20 * MS);
  assert_string_equal (lost->from, "client");
  assert_int_equal (net.client_side.error, SIM_STREAM_RESET);
  assert_int_equal (net.client_side.failed_at, 20 * MS + SIM_TCP_RETRANSMIT_TIMEOUT);
  two_hops_clear (&net);
}

static void
test_ephemeral_ports_count_up_per_node (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;

  two_hops_init (&net, world);
  sim_node_listen (net.server, 25, "smtp", on_accept, &net.server_side);
  two_hops_connect (&net, 25);
  two_hops_connect (&net, 25);
  run (world);
  assert_int_equal (nth_event (world, SIM_EVENT_CONNECT, 0)->from_port, SIM_EPHEMERAL_PORT_FIRST);
  assert_int_equal (nth_event (world, SIM_EVENT_CONNECT, 1)->from_port, SIM_EPHEMERAL_PORT_FIRST + 1);
  assert_true (nth_event (world, SIM_EVENT_CONNECT, 0)->connection
               != nth_event (world, SIM_EVENT_CONNECT, 1)->connection);
  two_hops_clear (&net);
}

/* ---- datagrams ---- */

typedef struct
{
  World *world;
  guint count;
  SimTime at;
  guint32 from_address;
  guint16 from_port;
  guint16 to_port;
  GString *payload;
} Inbox;

static void
on_datagram (SimNode *node, guint32 from_address, guint16 from_port, guint16 to_port, GBytes *payload,
             gpointer user_data)
{
  Inbox *inbox = user_data;
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);

  inbox->count++;
  inbox->at = sim_scheduler_now (inbox->world->scheduler);
  inbox->from_address = from_address;
  inbox->from_port = from_port;
  inbox->to_port = to_port;
  g_string_append_len (inbox->payload, data, (gssize) len);
}

static void
send_query (TwoHops *net, guint32 to_address, guint16 to_port)
{
  g_autoptr(GBytes) payload = g_bytes_new_static ("query", 5);
  sim_network_send_datagram (net->world->network, net->client, 5353, to_address, to_port, "dns", payload,
                             "dns.query");
}

static void
test_datagram_arrives_after_the_path_latency (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;
  Inbox inbox = { world, 0, 0, 0, 0, 0, g_string_new (NULL) };

  two_hops_init (&net, world);
  sim_node_bind_datagram (net.server, 53, "dns", on_datagram, &inbox);
  send_query (&net, sim_node_get_address (net.server), 53);
  run (world);

  assert_int_equal (inbox.count, 1);
  assert_int_equal (inbox.at, 10 * MS);
  assert_int_equal (inbox.from_address, sim_node_get_address (net.client));
  assert_int_equal (inbox.from_port, 5353);
  assert_int_equal (inbox.to_port, 53);
  assert_string_equal (inbox.payload->str, "query");
  const SimEvent *event = nth_event (world, SIM_EVENT_DATAGRAM, 0);
  assert_int_equal (event->time, 0);
  assert_int_equal (event->arrival, 10 * MS);
  assert_string_equal (event->protocol, "dns");
  assert_string_equal (event->explain, "dns.query");
  assert_int_equal (event->connection, 0);
  g_autofree char *path = path_to_string (event->path);
  assert_string_equal (path, "client router server");
  g_string_free (inbox.payload, TRUE);
  two_hops_clear (&net);
}

static void
test_datagram_to_an_unbound_port_is_not_delivered (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;
  Inbox inbox = { world, 0, 0, 0, 0, 0, g_string_new (NULL) };

  two_hops_init (&net, world);
  sim_node_bind_datagram (net.server, 53, "dns", on_datagram, &inbox);
  send_query (&net, sim_node_get_address (net.server), 54);
  sim_node_unbind_datagram (net.server, 53);
  send_query (&net, sim_node_get_address (net.server), 53);
  run (world);
  assert_int_equal (inbox.count, 0);
  g_string_free (inbox.payload, TRUE);
  two_hops_clear (&net);
}

static void
test_datagram_without_a_route_is_lost_at_once (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;
  Inbox inbox = { world, 0, 0, 0, 0, 0, g_string_new (NULL) };

  two_hops_init (&net, world);
  sim_node_bind_datagram (net.server, 53, "dns", on_datagram, &inbox);
  sim_link_set_up (net.first, FALSE);
  send_query (&net, sim_node_get_address (net.server), 53);
  send_query (&net, 0x0a636363, 53);
  run (world);

  assert_int_equal (inbox.count, 0);
  assert_int_equal (count_events (world, SIM_EVENT_DATAGRAM), 0);
  assert_int_equal (count_events (world, SIM_EVENT_LOST), 2);
  const SimEvent *no_route = nth_event (world, SIM_EVENT_LOST, 0);
  assert_int_equal (no_route->time, 0);
  assert_string_equal (no_route->to, "server");
  assert_non_null (strstr (no_route->text, "no route"));
  const SimEvent *no_host = nth_event (world, SIM_EVENT_LOST, 1);
  assert_string_equal (no_host->to, "");
  assert_non_null (strstr (no_host->text, "no host"));
  g_string_free (inbox.payload, TRUE);
  two_hops_clear (&net);
}

static void
test_datagram_to_a_node_that_goes_down_in_flight_is_dropped (void **state)
{
  g_autoptr(World) world = world_new ();
  TwoHops net;
  Inbox inbox = { world, 0, 0, 0, 0, 0, g_string_new (NULL) };

  two_hops_init (&net, world);
  sim_node_bind_datagram (net.server, 53, "dns", on_datagram, &inbox);
  send_query (&net, sim_node_get_address (net.server), 53);
  sim_scheduler_run_until (world->scheduler, 5 * MS);
  sim_node_set_up (net.server, FALSE);
  run (world);
  assert_int_equal (inbox.count, 0);
  g_string_free (inbox.payload, TRUE);
  two_hops_clear (&net);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_address_parse_and_print),
    cmocka_unit_test (test_duplicate_node_name_or_address_is_refused),
    cmocka_unit_test (test_link_needs_two_nodes_and_is_unique),
    cmocka_unit_test (test_route_takes_the_least_total_latency),
    cmocka_unit_test (test_route_ties_are_broken_by_the_order_nodes_were_added),
    cmocka_unit_test (test_down_link_reroutes_then_makes_unreachable),
    cmocka_unit_test (test_latency_change_changes_the_route),
    cmocka_unit_test (test_down_node_forwards_nothing_and_cannot_be_reached),
    cmocka_unit_test (test_connect_completes_after_one_round_trip),
    cmocka_unit_test (test_connect_to_a_closed_port_is_refused_after_one_round_trip),
    cmocka_unit_test (test_unlisten_makes_the_port_refuse),
    cmocka_unit_test (test_connect_to_a_down_node_is_unreachable_after_the_connect_timeout),
    cmocka_unit_test (test_connect_to_an_unknown_address_is_unreachable),
    cmocka_unit_test (test_syn_lost_when_the_server_goes_down_in_flight),
    cmocka_unit_test (test_data_arrives_in_order_at_departure_plus_latency),
    cmocka_unit_test (test_empty_write_sends_nothing),
    cmocka_unit_test (test_orderly_close_both_ways_ends_the_connection),
    cmocka_unit_test (test_half_closed_stream_still_carries_the_other_direction),
    cmocka_unit_test (test_writes_after_close_are_ignored),
    cmocka_unit_test (test_a_node_going_down_resets_its_peers),
    cmocka_unit_test (test_listeners_answer_again_when_the_node_comes_back),
    cmocka_unit_test (test_write_over_a_cut_link_is_lost_and_the_writer_is_reset),
    cmocka_unit_test (test_ephemeral_ports_count_up_per_node),
    cmocka_unit_test (test_datagram_arrives_after_the_path_latency),
    cmocka_unit_test (test_datagram_to_an_unbound_port_is_not_delivered),
    cmocka_unit_test (test_datagram_without_a_route_is_lost_at_once),
    cmocka_unit_test (test_datagram_to_a_node_that_goes_down_in_flight_is_dropped),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
