/* sim-trace.h: the one event type of a run, and the sinks that read it.
 *
 * Everything observable in a run is a SimEvent: a stream opened, refused or
 * closed, bytes sent over it, a datagram, a message queued, delivered,
 * deferred or bounced, a fault applied, an expectation checked.  Sinks (the
 * narration printer, the JSON Lines writer, the fingerprint, the GUI)
 * subscribe; none of them reaches back into the simulation.  The schema is
 * documented in docs/trace-format.md.
 */
#pragma once

#include <glib.h>

#include "core/sim-time.h"

G_BEGIN_DECLS

typedef enum
{
  SIM_EVENT_CONNECT,      /* client sends SYN towards a listening port */
  SIM_EVENT_ACCEPT,       /* server accepted: the connection is open */
  SIM_EVENT_REFUSED,      /* nothing listens there: RST */
  SIM_EVENT_UNREACHABLE,  /* no route or a link is down: the attempt times out */
  SIM_EVENT_DATA,         /* bytes over an open connection */
  SIM_EVENT_CLOSE,        /* FIN: one side closed */
  SIM_EVENT_RESET,        /* connection broken (node crash, link cut) */
  SIM_EVENT_DATAGRAM,     /* one UDP datagram */
  SIM_EVENT_LOST,         /* a datagram or segment lost on a link */
  SIM_EVENT_MAIL,         /* a node did something with a message: queued, delivered, deferred, bounced, filed */
  SIM_EVENT_ACTION,       /* a timeline action or fault from the scenario */
  SIM_EVENT_NOTE,         /* a node explains a decision (MX chosen, lookup started) */
  SIM_EVENT_EXPECT,       /* an expectation checked at the end of the run */
} SimEventKind;

typedef struct
{
  guint64 seq;             /* 1, 2, 3... in emission order */
  SimEventKind kind;
  SimTime time;            /* when it happened, or when the bytes left */
  SimTime arrival;         /* when the bytes arrive (== time otherwise) */
  const char *from;        /* node names; "" when not applicable */
  const char *to;
  guint32 from_address;    /* IPv4, host byte order; 0 when none */
  guint32 to_address;
  guint16 from_port;
  guint16 to_port;
  guint64 connection;      /* stream id, 0 for none */
  gboolean from_client;    /* DATA: sent by the side that opened the connection */
  gboolean encrypted;      /* DATA: sent after STARTTLS (simulated TLS) */
  const char *protocol;    /* "smtp", "lmtp", "dns", "imap", "pop3", "tcp", "mail", ... (static) */
  const char *explain;     /* key into the explanation catalogue, or NULL */
  const char *status;      /* MAIL: "queued", "delivered", "deferred", "bounced"...; EXPECT: "pass"/"fail" */
  const char *message;     /* MAIL: the queue id or Message-ID the event is about */
  GBytes *bytes;           /* payload (DATA, DATAGRAM), or NULL */
  char *text;              /* human text for MAIL/ACTION/NOTE/EXPECT */
  GPtrArray *path;         /* node names along the route (transmissions) */
} SimEvent;

typedef struct _SimTrace SimTrace;
typedef void (*SimTraceSinkFunc) (const SimEvent *event, gpointer user_data);

SimTrace *sim_trace_new (void);
void sim_trace_free (SimTrace *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimTrace, sim_trace_free)

/* Sinks are called in the order they were added, synchronously. */
void sim_trace_add_sink (SimTrace *self, SimTraceSinkFunc func, gpointer user_data,
                         GDestroyNotify destroy);

/* Keep every event in memory (expectations and the GUI need them). */
void sim_trace_set_keep (SimTrace *self, gboolean keep);
GPtrArray *sim_trace_get_events (SimTrace *self);   /* (transfer none) of SimEvent* */

/* Fills seq, copies strings into the trace's string pool, takes a ref on
 * bytes, then hands the event to every sink.  @event is not kept. */
void sim_trace_emit (SimTrace *self, const SimEvent *event);

/* Interns a string for the lifetime of the trace. */
const char *sim_trace_intern (SimTrace *self, const char *text);

guint64 sim_trace_count (const SimTrace *self);

const char *sim_event_kind_to_string (SimEventKind kind);

G_END_DECLS
