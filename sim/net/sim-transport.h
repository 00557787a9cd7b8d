/* sim-transport.h: the small interface through which protocol code sends bytes.
 *
 * A protocol state machine (SMTP, POP3, IMAP, LMTP) never knows whether its
 * bytes travel over a virtual link or a real socket: it is fed received bytes
 * by its owner and answers through a SimTransport.  The simulated network
 * (sim-network.c) and the live gateway (`mailsim serve`) each provide one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SimTransport SimTransport;

struct _SimTransport
{
  /* Send @len bytes.  @explain_key names the entry of the explanation
   * catalogue (sim/trace/sim-explain.h) that says what these bytes mean,
   * for example "smtp.cmd.ehlo" or "smtp.reply.greeting". */
  void (*write) (gpointer impl, const guint8 *data, gsize len, const char *explain_key);
  /* Close the connection after every written byte has been sent. */
  void (*close) (gpointer impl);
  gpointer impl;
  /* Optional: from now on, bytes this side writes travel encrypted
   * (STARTTLS, RFC 3207).  mailsim simulates the encryption: the bytes stay
   * readable to the simulation, but the trace marks them and an
   * eavesdropper sees only opaque bytes.  NULL when the transport has no
   * such notion. */
  void (*start_tls) (gpointer impl);
};

static inline void
sim_transport_write (SimTransport *transport, const void *data, gsize len, const char *explain_key)
{
  transport->write (transport->impl, (const guint8 *) data, len, explain_key);
}

static inline void
sim_transport_write_string (SimTransport *transport, const char *text, const char *explain_key)
{
  transport->write (transport->impl, (const guint8 *) text, strlen (text), explain_key);
}

static inline void
sim_transport_start_tls (SimTransport *transport)
{
  if (transport->start_tls != NULL)
    transport->start_tls (transport->impl);
}

static inline void
sim_transport_close (SimTransport *transport)
{
  transport->close (transport->impl);
}

G_END_DECLS
