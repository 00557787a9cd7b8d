/* mta.c: queue, routing, relay, retries and bounces of an MTA node. */
#include "nodes/mta.h"

#include <string.h>

#include "nodes/dns-stub.h"
#include "nodes/mail-store.h"
#include "nodes/mta-policy.h"
#include "nodes/sim-world.h"
#include "nodes/spf.h"
#include "proto/message/mail-message.h"
#include "proto/smtp/smtp-client.h"
#include "proto/smtp/smtp-server.h"

/* RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the
 * next command. */
#define MTA_SERVER_IDLE_TIMEOUT (5 * SIM_TIME_MINUTE)
/* RFC 5321 4.5.3.2: a client waits minutes, not forever, for each reply
 * (5 for most commands, 10 after the final dot); one value keeps it simple. */
#define MTA_CLIENT_REPLY_TIMEOUT (5 * SIM_TIME_MINUTE)

typedef enum
{
  RECIPIENT_PENDING,
  RECIPIENT_DONE,
  RECIPIENT_FAILED,
} RecipientState;

typedef struct
{
  char *address;
  RecipientState state;
  char *last_reply;   /* the latest answer about it, for DSNs and narration */
  char *status;       /* enhanced status code of last_reply */
} QueueRecipient;

typedef struct
{
  Mta *mta;
  char *id;
  char *reverse_path;
  GPtrArray *recipients;   /* QueueRecipient* */
  GBytes *content;
  SimTime arrived;
  guint attempts;
  gboolean in_progress;
  gboolean due;            /* a retry fell due while the host was down */
  gboolean warned;         /* a delay warning went to the sender */
  SimEventId retry_timer;
} QueueEntry;

typedef struct
{
  char *domain;
  guint32 address;  /* the store's address, for LMTP */
} LocalDomain;

struct _Mta
{
  SimWorld *world;
  SimNode *node;
  const char *hostname;
  gboolean starttls;       /* offer STARTTLS, and use it when relaying */
  DnsStub *stub;
  guint32 resolver_address;
  gboolean submission;
  GHashTable *users;       /* address -> password; lookups only */
  GArray *relay_clients;   /* guint32 addresses allowed to relay without AUTH */
  GArray *local_domains;   /* LocalDomain */
  guint32 smarthost;
  SimTime retry_interval;   /* the first wait; each later one doubles... */
  SimTime max_backoff;      /* ...up to this (Postfix's minimal/maximal_backoff_time) */
  SimTime queue_lifetime;
  GPtrArray *queue;        /* QueueEntry*, in arrival order */
  GPtrArray *sessions;     /* ServerSession* */
  GPtrArray *attempts;     /* DeliveryAttempt* still alive */
  GPtrArray *jobs;         /* DeliveryJob* still alive */

  /* Policies for mail arriving on port 25 (mta-policy.h, spf.h). */
  gsize size_limit;        /* 0: the SMTP default */
  SimTime warn_after;      /* 0: no delay warnings */
  MtaGreylist *greylist;
  MtaRateLimit *rate_limit;
  char *dnsbl_zone;
  gboolean spam_scoring;
  guint spam_threshold;
  gboolean spf_check;
  gboolean spf_reject_fail;
};

/* ---- queue ---- */

static void
queue_recipient_free (QueueRecipient *recipient)
{
  g_free (recipient->address);
  g_free (recipient->last_reply);
  g_free (recipient->status);
  g_free (recipient);
}

static void
queue_entry_free (QueueEntry *entry)
{
  sim_scheduler_cancel (sim_world_get_scheduler (entry->mta->world), &entry->retry_timer);
  g_free (entry->id);
  g_free (entry->reverse_path);
  g_ptr_array_unref (entry->recipients);
  g_bytes_unref (entry->content);
  g_free (entry);
}

static void attempt_delivery (gpointer data);

static QueueEntry *
enqueue (Mta *self, const char *id, const char *reverse_path, GPtrArray *recipients, GBytes *content)
{
  QueueEntry *entry = g_new0 (QueueEntry, 1);

  entry->mta = self;
  entry->id = g_strdup (id);
  entry->reverse_path = g_strdup (reverse_path);
  entry->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) queue_recipient_free);
  for (guint i = 0; i < recipients->len; i++)
    {
      QueueRecipient *recipient = g_new0 (QueueRecipient, 1);
      recipient->address = g_strdup (g_ptr_array_index (recipients, i));
      g_ptr_array_add (entry->recipients, recipient);
    }
  entry->content = g_bytes_ref (content);
  entry->arrived = sim_world_now (self->world);
  g_ptr_array_add (self->queue, entry);
  /* Delivery starts as soon as the current event is over, as a real queue
   * manager picks up new mail at once. */
  entry->retry_timer = sim_scheduler_after (sim_world_get_scheduler (self->world), 0, attempt_delivery, entry, NULL);
  return entry;
}

guint
mta_count_queued_recipients (Mta *self)
{
  guint count = 0;

  for (guint i = 0; i < self->queue->len; i++)
    {
      QueueEntry *entry = g_ptr_array_index (self->queue, i);
      for (guint r = 0; r < entry->recipients->len; r++)
        if (((QueueRecipient *) g_ptr_array_index (entry->recipients, r))->state == RECIPIENT_PENDING)
          count++;
    }
  return count;
}

static const LocalDomain *
find_local_domain (Mta *self, const char *domain)
{
  if (domain == NULL)
    return NULL;
  for (guint i = 0; i < self->local_domains->len; i++)
    {
      const LocalDomain *local = &g_array_index (self->local_domains, LocalDomain, i);
      if (g_ascii_strcasecmp (local->domain, domain) == 0)
        return local;
    }
  return NULL;
}

/* ---- bounces ---- */

/* A delivery status notification (RFC 3464) for @recipients: a bounce
 * (Action: failed) or, with @delayed, a warning that they are still being
 * retried (Action: delayed, RFC 3464 2.3.3). */
static void
send_dsn (Mta *self, QueueEntry *entry, GPtrArray *failed, gboolean delayed)
{
  SimTime now = sim_world_now (self->world);
  g_autofree char *date = sim_time_to_rfc5322 (now);
  g_autofree char *arrival = sim_time_to_rfc5322 (entry->arrived);
  g_autofree char *id = sim_world_new_queue_id (self->world, self->node);
  GString *text = g_string_new (NULL);
  const char *boundary = "mailsim-dsn-boundary";
  gsize body_offset = mail_message_body_offset (entry->content);

  /* RFC 3464 and RFC 3462: a multipart/report with a human part, the
   * machine-readable delivery-status part, and the original headers. */
  g_string_append_printf (text, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", self->hostname);
  g_string_append_printf (text, "To: <%s>\r\n", entry->reverse_path);
  g_string_append_printf (text, "Subject: %s\r\n",
                          delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender");
  g_string_append_printf (text, "Date: %s\r\n", date);
  g_string_append_printf (text, "Message-ID: <%s.dsn@%s>\r\n", id, self->hostname);
  g_string_append (text, "Auto-Submitted: auto-replied\r\n");
  g_string_append (text, "MIME-Version: 1.0\r\n");
  g_string_append_printf (text, "Content-Type: multipart/report; report-type=delivery-status;\r\n boundary=\"%s\"\r\n", boundary);
  g_string_append (text, "\r\n");
  g_string_append_printf (text, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
  g_string_append_printf (text, "This is the mail system at host %s.\r\n\r\n", self->hostname);
  if (delayed)
    {
      g_autofree char *lifetime = sim_time_to_string (self->queue_lifetime);
      g_autofree char *waited = sim_time_to_string (now - entry->arrived);
      g_string_append_printf (text, "Your message could not be delivered for %s.\r\n", waited);
      g_string_append_printf (text, "It will be retried until it is %s old.\r\n", lifetime);
      g_string_append (text, "This is only a warning: you do not need to send it again.\r\n\r\n");
    }
  else
    {
      g_string_append (text, "I'm sorry to have to inform you that your message could not\r\n");
      g_string_append (text, "be delivered to one or more recipients.\r\n\r\n");
    }
  for (guint i = 0; i < failed->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (failed, i);
      g_string_append_printf (text, "<%s>: %s\r\n", recipient->address,
                              recipient->last_reply != NULL ? recipient->last_reply : "delivery failed");
    }
  g_string_append_printf (text, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
  g_string_append_printf (text, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n", self->hostname, arrival);
  for (guint i = 0; i < failed->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (failed, i);
      g_string_append_printf (text, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
                              recipient->address, delayed ? "delayed" : "failed",
                              recipient->status != NULL ? recipient->status : (delayed ? "4.0.0" : "5.0.0"));
      if (recipient->last_reply != NULL)
        g_string_append_printf (text, "Diagnostic-Code: smtp; %s\r\n", recipient->last_reply);
    }
  g_string_append_printf (text, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
  g_string_append_len (text, g_bytes_get_data (entry->content, NULL),
                       (gssize) (body_offset >= 2 ? body_offset - 2 : body_offset));
  g_string_append_printf (text, "\r\n--%s--\r\n", boundary);

  g_autoptr (GBytes) content = g_string_free_to_bytes (text);
  g_autoptr (GPtrArray) recipients = g_ptr_array_new ();
  g_ptr_array_add (recipients, entry->reverse_path);
  if (delayed)
    sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.delayed", "dsn-delayed", id,
                   "delay warning %s for message %s sent to <%s>: still undelivered, still being retried", id,
                   entry->id, entry->reverse_path);
  else
    sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.dsn", "dsn", id,
                   "bounce report %s for message %s sent back to <%s>", id, entry->id, entry->reverse_path);
  sim_world_count_dsn (self->world, 1);
  /* RFC 5321 4.5.5: a bounce is sent with the null reverse-path, so a
   * bounce that fails in turn is dropped, never bounced again. */
  enqueue (self, id, "", recipients, content);
}

static void
fail_recipient (Mta *self, QueueEntry *entry, QueueRecipient *recipient, const char *reply, const char *status)
{
  recipient->state = RECIPIENT_FAILED;
  g_free (recipient->last_reply);
  recipient->last_reply = g_strdup (reply);
  g_free (recipient->status);
  recipient->status = g_strdup (status);
  sim_world_count_bounced (self->world, 1);
  sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.bounced", "bounced", entry->id,
                 "message %s to <%s> failed permanently: %s", entry->id, recipient->address, reply);
}

/* ---- delivery attempts ---- */

typedef struct
{
  Mta *mta;
  QueueEntry *entry;
  char *domain;
  GPtrArray *recipients;   /* QueueRecipient* of this domain (borrowed) */
  gboolean lmtp;
  GPtrArray *exchangers;   /* char* hostnames to try, in order */
  guint next_exchanger;
  char *last_error;
  char *last_status;
  guint group_index;       /* which domain group of the entry */
  GPtrArray *groups;       /* char* domains still to do after this one (owned) */
} DeliveryJob;

typedef struct
{
  Mta *mta;
  DeliveryJob *job;
  SimStream *stream;
  SmtpClient *client;
  SimTransport transport;
  char *exchanger;
  gboolean closed;
  SimEventId reply_timer;
} DeliveryAttempt;

static void job_next_exchanger (DeliveryJob *job);
static void entry_attempt_finished (QueueEntry *entry);
static void start_group (Mta *self, QueueEntry *entry, GPtrArray *groups);

static void
job_free (DeliveryJob *job)
{
  g_ptr_array_remove_fast (job->mta->jobs, job);
  g_free (job->domain);
  g_ptr_array_unref (job->recipients);
  g_ptr_array_unref (job->exchangers);
  g_ptr_array_unref (job->groups);
  g_free (job->last_error);
  g_free (job->last_status);
  g_free (job);
}

static void
job_set_error (DeliveryJob *job, const char *error, const char *status)
{
  g_free (job->last_error);
  job->last_error = g_strdup (error);
  g_free (job->last_status);
  job->last_status = g_strdup (status);
}

/* The group's pending recipients are done with for this attempt: go on
 * with the next domain, or finish the attempt. */
static void
job_finish (DeliveryJob *job)
{
  Mta *self = job->mta;
  QueueEntry *entry = job->entry;
  GPtrArray *groups = g_ptr_array_ref (job->groups);

  for (guint i = 0; i < job->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (job->recipients, i);
      if (recipient->state == RECIPIENT_PENDING && job->last_error != NULL)
        {
          g_free (recipient->last_reply);
          recipient->last_reply = g_strdup (job->last_error);
          g_free (recipient->status);
          recipient->status = g_strdup (job->last_status);
        }
    }
  job_free (job);
  start_group (self, entry, groups);
  g_ptr_array_unref (groups);
}

/* Fails every pending recipient of the group permanently. */
static void
job_fail_all (DeliveryJob *job, const char *reply, const char *status)
{
  for (guint i = 0; i < job->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (job->recipients, i);
      if (recipient->state == RECIPIENT_PENDING)
        fail_recipient (job->mta, job->entry, recipient, reply, status);
    }
  job_finish (job);
}

static void
attempt_free (DeliveryAttempt *attempt)
{
  sim_scheduler_cancel (sim_world_get_scheduler (attempt->mta->world), &attempt->reply_timer);
  smtp_client_free (attempt->client);
  g_free (attempt->exchanger);
  g_free (attempt);
}

static void
attempt_release (DeliveryAttempt *attempt)
{
  g_ptr_array_remove (attempt->mta->attempts, attempt);
}

static void
attempt_transport_write (gpointer impl, const guint8 *data, gsize len, const char *explain_key)
{
  DeliveryAttempt *attempt = impl;
  sim_stream_write (attempt->stream, data, len, explain_key);
}

static void
attempt_transport_start_tls (gpointer impl)
{
  DeliveryAttempt *attempt = impl;
  sim_stream_start_tls (attempt->stream);
}

static void
attempt_transport_close (gpointer impl)
{
  DeliveryAttempt *attempt = impl;
  attempt->closed = TRUE;
  sim_stream_close (attempt->stream);
}

static void
client_done (SmtpClient *client, const SmtpClientResult *result, gpointer user_data)
{
  DeliveryAttempt *attempt = user_data;
  DeliveryJob *job = attempt->job;
  Mta *self = attempt->mta;
  gboolean try_next = FALSE;

  attempt->job = NULL;
  if (job == NULL)
    return;
  if (result->outcome == SMTP_OUTCOME_LOST && !result->dot_sent)
    {
      job_set_error (job, "lost connection before the message was accepted", "4.4.2");
      try_next = TRUE;
    }
  else if (result->outcome == SMTP_OUTCOME_LOST)
    {
      /* RFC 1047: the final dot was sent but its answer never came.  The
       * receiver may have taken the message; the sender cannot know, and
       * retries: a possible duplicate. */
      job_set_error (job, "lost connection after the final dot: delivery status unknown, will retry", "4.4.2");
      sim_node_emit (self->node, SIM_EVENT_NOTE, attempt->exchanger, "mail", "mail.deferred", "deferred", job->entry->id,
                     "connection to %s lost after the final dot: the message may be delivered twice (RFC 1047)",
                     attempt->exchanger);
    }
  else
    {
      gboolean any_temporary_before_rcpt = FALSE;
      g_autofree char *temporary_text = NULL;
      g_autofree char *temporary_status = NULL;
      for (guint i = 0; i < job->recipients->len; i++)
        {
          QueueRecipient *recipient = g_ptr_array_index (job->recipients, i);
          SmtpReply *reply = g_ptr_array_index (result->recipient_replies, i);
          g_autofree char *text = reply != NULL ? smtp_reply_to_string (reply) : NULL;
          if (reply == NULL || recipient->state != RECIPIENT_PENDING)
            continue;
          if (reply->code / 100 == 2)
            {
              recipient->state = RECIPIENT_DONE;
              sim_node_emit (self->node, SIM_EVENT_MAIL, attempt->exchanger, "mail",
                             job->lmtp ? "mail.filed" : "mail.relayed", job->lmtp ? "handed-to-store" : "relayed",
                             job->entry->id, "message %s to <%s> %s %s: %s", job->entry->id, recipient->address,
                             job->lmtp ? "handed to the mail store" : "relayed to", attempt->exchanger, text);
            }
          else if (reply->code / 100 == 5)
            fail_recipient (self, job->entry, recipient, text,
                            reply->enhanced != NULL ? reply->enhanced : "5.0.0");
          else
            {
              g_free (recipient->last_reply);
              recipient->last_reply = g_strdup (text);
              g_free (recipient->status);
              recipient->status = g_strdup (reply->enhanced != NULL ? reply->enhanced : "4.0.0");
              if (!result->dot_sent && result->data_reply == NULL && !any_temporary_before_rcpt)
                {
                  any_temporary_before_rcpt = TRUE;
                  temporary_text = g_strdup (text);
                  temporary_status = g_strdup (recipient->status);
                }
            }
        }
      /* A 4xx greeting or MAIL refusal concerns this exchanger only: RFC
       * 5321 5.1 says to try the next one. */
      if (any_temporary_before_rcpt && result->outcome == SMTP_OUTCOME_REJECTED)
        {
          job_set_error (job, temporary_text, temporary_status);
          try_next = TRUE;
        }
    }
  if (try_next)
    job_next_exchanger (job);
  else
    job_finish (job);
}

static void
stream_connected (SimStream *stream, gpointer user_data)
{
}

static void
attempt_timed_out (gpointer data)
{
  DeliveryAttempt *attempt = data;
  g_autofree char *waited = sim_time_to_string (MTA_CLIENT_REPLY_TIMEOUT);

  attempt->reply_timer = 0;
  sim_node_emit (attempt->mta->node, SIM_EVENT_NOTE, attempt->exchanger, "mail", "mail.deferred", "timeout", NULL,
                 "no reply from %s for %s: this connection is given up", attempt->exchanger, waited);
  if (!attempt->closed)
    {
      attempt->closed = TRUE;
      sim_stream_close (attempt->stream);
    }
  smtp_client_connection_lost (attempt->client);
  attempt_release (attempt);
}

static void
attempt_wait_for_reply (DeliveryAttempt *attempt)
{
  SimScheduler *scheduler = sim_world_get_scheduler (attempt->mta->world);

  sim_scheduler_cancel (scheduler, &attempt->reply_timer);
  attempt->reply_timer = sim_scheduler_after (scheduler, MTA_CLIENT_REPLY_TIMEOUT, attempt_timed_out, attempt, NULL);
}

static void
stream_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  DeliveryAttempt *attempt = user_data;

  attempt_wait_for_reply (attempt);
  smtp_client_feed (attempt->client, data, len);
  if (attempt->closed)
    attempt_release (attempt);
}

static void
stream_closed (SimStream *stream, gpointer user_data)
{
  DeliveryAttempt *attempt = user_data;

  smtp_client_connection_lost (attempt->client);
  if (!attempt->closed)
    {
      attempt->closed = TRUE;
      sim_stream_close (stream);
    }
  attempt_release (attempt);
}

static void
stream_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  DeliveryAttempt *attempt = user_data;
  DeliveryJob *job = attempt->job;

  attempt->closed = TRUE;
  if (job != NULL && !smtp_client_is_done (attempt->client) && error != SIM_STREAM_RESET)
    {
      g_autofree char *text = g_strdup_printf ("connect to %s: %s", attempt->exchanger,
                                               sim_stream_error_to_string (error));
      attempt->job = NULL;
      job_set_error (job, text, "4.4.1");
      sim_node_emit (attempt->mta->node, SIM_EVENT_NOTE, attempt->exchanger, "mail", "mail.deferred", "connect-failed",
                     job->entry->id, "%s", text);
      job_next_exchanger (job);
    }
  else
    smtp_client_connection_lost (attempt->client);
  attempt_release (attempt);
}

static const SimStreamCallbacks attempt_callbacks = {
  stream_connected, stream_received, stream_closed, stream_failed,
};

static void
job_connect (DeliveryJob *job, const char *exchanger, guint32 address)
{
  Mta *self = job->mta;
  DeliveryAttempt *attempt = g_new0 (DeliveryAttempt, 1);
  g_autoptr (GPtrArray) recipients = g_ptr_array_new ();
  SmtpClientConfig config = { 0 };

  for (guint i = 0; i < job->recipients->len; i++)
    g_ptr_array_add (recipients, ((QueueRecipient *) g_ptr_array_index (job->recipients, i))->address);
  g_ptr_array_add (recipients, NULL);
  attempt->mta = self;
  attempt->job = job;
  attempt->exchanger = g_strdup (exchanger);
  attempt->transport.write = attempt_transport_write;
  attempt->transport.close = attempt_transport_close;
  attempt->transport.impl = attempt;
  attempt->transport.start_tls = attempt_transport_start_tls;
  config.helo_name = self->hostname;
  config.lmtp = job->lmtp;
  config.reverse_path = job->entry->reverse_path;
  config.recipients = (const char *const *) recipients->pdata;
  config.content = job->entry->content;
  /* Opportunistic TLS between MTAs (RFC 3207): used when offered. */
  config.starttls = self->starttls;
  attempt->client = smtp_client_new (&config, &attempt->transport, client_done, attempt);
  g_ptr_array_add (self->attempts, attempt);
  attempt->stream = sim_network_connect (sim_world_get_network (self->world), self->node, address,
                                         job->lmtp ? MTA_PORT_LMTP : MTA_PORT_SMTP, &attempt_callbacks, attempt);
  attempt_wait_for_reply (attempt);
}

static void
address_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  DeliveryJob *job = user_data;
  const char *exchanger = g_ptr_array_index (job->exchangers, job->next_exchanger - 1);

  if (status == DNS_STUB_ANSWER)
    {
      for (guint i = 0; i < response->answers->len; i++)
        {
          DnsRecord *record = g_ptr_array_index (response->answers, i);
          if (record->type == DNS_TYPE_A)
            {
              char text[16];
              sim_node_emit (job->mta->node, SIM_EVENT_NOTE, "", "mail", "mail.route.mx", "connecting", job->entry->id,
                             "%s has address %s: connecting to port %u", exchanger,
                             sim_address_to_string (dns_record_get_ipv4 (record), text),
                             job->lmtp ? MTA_PORT_LMTP : MTA_PORT_SMTP);
              job_connect (job, exchanger, dns_record_get_ipv4 (record));
              return;
            }
        }
    }
  g_autofree char *text = g_strdup_printf ("no address for %s: %s", exchanger, dns_stub_status_to_string (status));
  job_set_error (job, text, "4.4.3");
  job_next_exchanger (job);
}

static void
job_next_exchanger (DeliveryJob *job)
{
  if (job->next_exchanger >= job->exchangers->len)
    {
      /* Every exchanger failed: the group stays queued (RFC 5321 5.1). */
      job_finish (job);
      return;
    }
  const char *exchanger = g_ptr_array_index (job->exchangers, job->next_exchanger++);
  if (job->lmtp || job->mta->smarthost != 0)
    {
      guint32 address = job->lmtp ? find_local_domain (job->mta, job->domain)->address : job->mta->smarthost;
      job_connect (job, exchanger, address);
      return;
    }
  dns_stub_lookup (job->mta->stub, exchanger, DNS_TYPE_A, address_found, job);
}

typedef struct
{
  guint16 preference;
  char *exchange;
} MxChoice;

static gint
compare_mx (gconstpointer a, gconstpointer b)
{
  const MxChoice *x = a;
  const MxChoice *y = b;

  if (x->preference != y->preference)
    return x->preference < y->preference ? -1 : 1;
  /* RFC 5321 5.1 asks to randomise equal preferences; a fixed order keeps
   * runs reproducible and is what a student can predict. */
  return g_ascii_strcasecmp (x->exchange, y->exchange);
}

static void
mx_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  DeliveryJob *job = user_data;
  Mta *self = job->mta;

  switch (status)
    {
    case DNS_STUB_ANSWER:
      {
        g_autoptr (GArray) choices = g_array_new (FALSE, FALSE, sizeof (MxChoice));
        for (guint i = 0; i < response->answers->len; i++)
          {
            DnsRecord *record = g_ptr_array_index (response->answers, i);
            if (record->type != DNS_TYPE_MX)
              continue;
            MxChoice choice = { record->preference, record->target };
            g_array_append_val (choices, choice);
          }
        g_array_sort (choices, compare_mx);
        if (choices->len == 1 && (g_str_equal (g_array_index (choices, MxChoice, 0).exchange, ".")
                                  || g_array_index (choices, MxChoice, 0).exchange[0] == '\0'))
          {
            /* RFC 7505 3: a null MX says the domain takes no mail. */
            g_autofree char *text = g_strdup_printf ("556 5.1.10 Domain %s does not accept mail (null MX)", job->domain);
            job_fail_all (job, text, "5.1.10");
            return;
          }
        GString *list = g_string_new (NULL);
        for (guint i = 0; i < choices->len; i++)
          {
            MxChoice *choice = &g_array_index (choices, MxChoice, i);
            g_autofree char *host = g_strdup (choice->exchange);
            gsize length = strlen (host);
            if (length > 1 && host[length - 1] == '.')
              host[length - 1] = '\0';
            g_ptr_array_add (job->exchangers, g_strdup (host));
            g_string_append_printf (list, "%s%s (preference %u)", i > 0 ? ", " : "", host, choice->preference);
          }
        sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.route.mx", "mx", job->entry->id,
                       "mail for %s goes to %s", job->domain, list->str);
        g_string_free (list, TRUE);
        job_next_exchanger (job);
        return;
      }
    case DNS_STUB_NODATA:
      /* RFC 5321 5.1: no MX, so the domain itself is the implicit MX. */
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.route.implicit-mx", "implicit-mx", job->entry->id,
                     "%s has no MX record: trying its address record (implicit MX)", job->domain);
      g_ptr_array_add (job->exchangers, g_strdup (job->domain));
      job_next_exchanger (job);
      return;
    case DNS_STUB_NXDOMAIN:
      {
        g_autofree char *text = g_strdup_printf ("550 5.1.2 Host or domain name not found: %s does not exist (NXDOMAIN)",
                                                 job->domain);
        job_fail_all (job, text, "5.1.2");
        return;
      }
    case DNS_STUB_SERVFAIL:
    case DNS_STUB_TIMEOUT:
    default:
      {
        g_autofree char *text = g_strdup_printf ("451 4.4.3 Host or domain name not found: temporary DNS failure for %s (%s)",
                                                 job->domain, dns_stub_status_to_string (status));
        job_set_error (job, text, "4.4.3");
        job_finish (job);
        return;
      }
    }
}

/* Starts the next domain of @groups, or ends the attempt when none is left. */
static void
start_group (Mta *self, QueueEntry *entry, GPtrArray *groups)
{
  DeliveryJob *job;
  const LocalDomain *local;

  if (groups->len == 0)
    {
      entry_attempt_finished (entry);
      return;
    }
  job = g_new0 (DeliveryJob, 1);
  g_ptr_array_add (self->jobs, job);
  job->mta = self;
  job->entry = entry;
  job->domain = g_strdup (g_ptr_array_index (groups, 0));
  job->groups = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; i < groups->len; i++)
    g_ptr_array_add (job->groups, g_strdup (g_ptr_array_index (groups, i)));
  job->recipients = g_ptr_array_new ();
  job->exchangers = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
      const char *domain = smtp_address_domain (recipient->address);
      if (recipient->state == RECIPIENT_PENDING && domain != NULL && g_ascii_strcasecmp (domain, job->domain) == 0)
        g_ptr_array_add (job->recipients, recipient);
    }
  local = find_local_domain (self, job->domain);
  if (local != NULL)
    {
      SimNode *store = sim_network_find_node_by_address (sim_world_get_network (self->world), local->address);
      job->lmtp = TRUE;
      g_ptr_array_add (job->exchangers, g_strdup (store != NULL ? sim_node_get_name (store) : "mail store"));
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.route.local", "local", entry->id,
                     "%s is a local domain: handing the message to the mail store over LMTP", job->domain);
      job_next_exchanger (job);
      return;
    }
  if (self->smarthost != 0)
    {
      SimNode *relay = sim_network_find_node_by_address (sim_world_get_network (self->world), self->smarthost);
      g_ptr_array_add (job->exchangers, g_strdup (relay != NULL ? sim_node_get_name (relay) : "smarthost"));
      sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.route.smarthost", "smarthost", entry->id,
                     "relaying mail for %s through the smarthost", job->domain);
      job_next_exchanger (job);
      return;
    }
  if (self->stub == NULL)
    {
      job_set_error (job, "451 4.3.5 no DNS resolver configured", "4.3.5");
      job_finish (job);
      return;
    }
  sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.route.mx", "lookup", entry->id,
                 "where does %s take mail? asking DNS for its MX records", job->domain);
  dns_stub_lookup (self->stub, job->domain, DNS_TYPE_MX, mx_found, job);
}

static void
attempt_delivery (gpointer data)
{
  QueueEntry *entry = data;
  Mta *self = entry->mta;
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);

  entry->retry_timer = 0;
  if (entry->in_progress)
    return;
  if (!sim_node_is_up (self->node))
    {
      /* No queue manager runs on a crashed host; the retry waits for it. */
      entry->due = TRUE;
      return;
    }
  entry->due = FALSE;
  entry->in_progress = TRUE;
  entry->attempts++;
  /* One group per destination domain, in the order recipients were given. */
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
      const char *domain = smtp_address_domain (recipient->address);
      gboolean seen = FALSE;
      if (recipient->state != RECIPIENT_PENDING)
        continue;
      if (domain == NULL)
        {
          fail_recipient (self, entry, recipient, "550 5.1.3 bad recipient address syntax", "5.1.3");
          continue;
        }
      for (guint g = 0; g < groups->len && !seen; g++)
        seen = g_ascii_strcasecmp (g_ptr_array_index (groups, g), domain) == 0;
      if (!seen)
        g_ptr_array_add (groups, g_strdup (domain));
    }
  start_group (self, entry, groups);
}

/* RFC 5321 4.5.4.1 leaves the retry strategy to the MTA; like Postfix,
 * wait the retry interval after the first failed attempt and double the
 * wait after each further one, up to the maximal backoff. */
static SimTime
retry_delay (Mta *self, guint attempts)
{
  SimTime wait = self->retry_interval;

  for (guint i = 1; i < attempts && wait < self->max_backoff; i++)
    wait *= 2;
  return MIN (wait, MAX (self->max_backoff, self->retry_interval));
}

static void
entry_attempt_finished (QueueEntry *entry)
{
  Mta *self = entry->mta;
  SimTime now = sim_world_now (self->world);
  g_autoptr (GPtrArray) failed = g_ptr_array_new ();
  guint pending = 0;

  entry->in_progress = FALSE;
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
      if (recipient->state == RECIPIENT_PENDING)
        pending++;
    }
  SimTime wait = retry_delay (self, entry->attempts);
  /* The last try comes when the lifetime ends, not a whole backoff later. */
  if (entry->arrived + self->queue_lifetime - now < wait)
    wait = MAX (entry->arrived + self->queue_lifetime - now, 0);
  if (pending > 0 && now - entry->arrived >= self->queue_lifetime)
    {
      /* RFC 5321 4.5.4.1: give up once the message has been queued for the
       * whole lifetime, at the first attempt that finds it that old. */
      for (guint i = 0; i < entry->recipients->len; i++)
        {
          QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
          if (recipient->state == RECIPIENT_PENDING)
            {
              g_autofree char *lifetime = sim_time_to_string (self->queue_lifetime);
              g_autofree char *reason = g_strdup_printf ("gave up after %u attempts in %s (the queue lifetime); last error: %s",
                                                         entry->attempts, lifetime,
                                                         recipient->last_reply != NULL ? recipient->last_reply : "no answer");
              fail_recipient (self, entry, recipient, reason, "4.4.7");
            }
        }
      pending = 0;
    }
  else if (pending > 0)
    {
      g_autofree char *when = sim_time_to_string (wait);
      if (self->warn_after > 0 && !entry->warned && now - entry->arrived >= self->warn_after
          && entry->reverse_path[0] != '\0')
        {
          g_autoptr (GPtrArray) waiting = g_ptr_array_new ();
          for (guint i = 0; i < entry->recipients->len; i++)
            {
              QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
              if (recipient->state == RECIPIENT_PENDING)
                g_ptr_array_add (waiting, recipient);
            }
          entry->warned = TRUE;
          send_dsn (self, entry, waiting, TRUE);
        }
      for (guint i = 0; i < entry->recipients->len; i++)
        {
          QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
          if (recipient->state == RECIPIENT_PENDING)
            sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.deferred", "deferred", entry->id,
                           "message %s to <%s> deferred (%s); next try in %s", entry->id, recipient->address,
                           recipient->last_reply != NULL ? recipient->last_reply : "temporary failure", when);
        }
      entry->retry_timer = sim_scheduler_after (sim_world_get_scheduler (self->world), wait,
                                                attempt_delivery, entry, NULL);
      return;
    }
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      QueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);
      /* Failures found in this attempt are reported together. */
      if (recipient->state == RECIPIENT_FAILED)
        g_ptr_array_add (failed, recipient);
    }
  if (failed->len > 0 && entry->reverse_path[0] != '\0')
    send_dsn (self, entry, failed, FALSE);
  else if (failed->len > 0)
    sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.dsn", "dsn-dropped", entry->id,
                   "message %s had the null reverse-path <>: a failed bounce is dropped, never bounced again",
                   entry->id);
  g_ptr_array_remove (self->queue, entry);
}

/* ---- receiving ---- */

typedef struct
{
  Mta *mta;
  SimStream *stream;
  SmtpServer *server;
  SimEventId idle_timer;
  guint32 client_address;
  char *client_name;            /* the client's node, for the narration */
  /* RFC 5321 4.4: the client's reverse name for the Received field, once
   * the PTR lookup started at connect has found one; NULL until then, and
   * when there is none ("unknown" is written). */
  char *client_reverse_name;

  /* RFC 5782: the client's standing on the blocklist, asked at connect. */
  enum { DNSBL_UNCHECKED, DNSBL_PENDING, DNSBL_CLEAN, DNSBL_LISTED } dnsbl;
  char *dnsbl_reason;
  char *waiting_reverse_path;   /* a RCPT waiting for the blocklist's answer */
  char *waiting_forward_path;
  /* RFC 7208: the SPF check of the current MAIL FROM. */
  SpfCheck *spf;
  gboolean spf_done;
  SpfResult spf_result;
  char *spf_reason;
  char *spf_identity;           /* the address checked ("postmaster@HELO" for <>) */
} ServerSession;

static void
session_free (ServerSession *session)
{
  sim_scheduler_cancel (sim_world_get_scheduler (session->mta->world), &session->idle_timer);
  if (session->mta->stub != NULL)
    dns_stub_cancel (session->mta->stub, session);
  spf_check_free (session->spf);
  smtp_server_free (session->server);
  g_free (session->client_name);
  g_free (session->client_reverse_name);
  g_free (session->dnsbl_reason);
  g_free (session->waiting_reverse_path);
  g_free (session->waiting_forward_path);
  g_free (session->spf_reason);
  g_free (session->spf_identity);
  g_free (session);
}

static void
session_release (ServerSession *session)
{
  g_ptr_array_remove (session->mta->sessions, session);
}

static void
session_idle (gpointer data)
{
  ServerSession *session = data;

  session->idle_timer = 0;
  smtp_server_idle_timeout (session->server);
  session_release (session);
}

static void
session_touch (ServerSession *session)
{
  SimScheduler *scheduler = sim_world_get_scheduler (session->mta->world);

  sim_scheduler_cancel (scheduler, &session->idle_timer);
  session->idle_timer = sim_scheduler_after (scheduler, MTA_SERVER_IDLE_TIMEOUT, session_idle, session, NULL);
}

static void
set_reply (SmtpReply *reply, guint code, const char *enhanced, char *text /* transfer full */)
{
  reply->code = code;
  g_free (reply->enhanced);
  reply->enhanced = g_strdup (enhanced);
  g_free (reply->text);
  reply->text = text;
}

static gboolean
policies_apply (ServerSession *session)
{
  /* Policies guard the door strangers use, port 25; users who
   * authenticated on 587 are trusted. */
  return smtp_server_get_service (session->server) == SMTP_SERVICE_RELAY;
}

/* The policy checks of a recipient the MTA would otherwise take, once the
 * blocklist has answered: blocklist, rate limit, greylisting. */
static void
check_recipient_policies (ServerSession *session, const char *reverse_path, const char *forward_path,
                          SmtpReply *reply)
{
  Mta *self = session->mta;
  SimTime now = sim_world_now (self->world);
  char client[16];

  sim_address_to_string (session->client_address, client);
  if (session->dnsbl == DNSBL_LISTED)
    {
      /* RFC 5782 2.1, in Postfix's words. */
      set_reply (reply, 554, "5.7.1",
                 g_strdup_printf ("Service unavailable; Client host [%s] blocked using %s; %s", client,
                                  self->dnsbl_zone, session->dnsbl_reason));
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.dnsbl", "refused", NULL,
                     "%s is on the blocklist %s: mail from it to <%s> is refused", client, self->dnsbl_zone,
                     forward_path);
      return;
    }
  if (self->rate_limit != NULL && !mta_rate_limit_allows (self->rate_limit, client, now))
    {
      g_autofree char *window = sim_time_to_string (mta_rate_limit_get_window (self->rate_limit));
      set_reply (reply, 450, "4.7.1",
                 g_strdup_printf ("<%s>: Error: too many recipients from [%s]: at most %u per %s, try again later",
                                  forward_path, client, mta_rate_limit_get_limit (self->rate_limit), window));
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.rate-limit", "throttled", NULL,
                     "rate limit: %s already sent %u recipients in the last %s; <%s> must wait", client,
                     mta_rate_limit_get_limit (self->rate_limit), window, forward_path);
      return;
    }
  if (self->greylist != NULL)
    {
      SimTime remaining = 0;
      MtaGreylistVerdict verdict = mta_greylist_check (self->greylist, session->client_address, reverse_path,
                                                       forward_path, now, &remaining);
      g_autofree char *wait = sim_time_to_string (remaining);
      if (verdict != MTA_GREYLIST_PASS)
        {
          set_reply (reply, 450, "4.7.1",
                     g_strdup_printf ("<%s>: Recipient address rejected: Greylisted for %s, see RFC 6647", forward_path,
                                      wait));
          sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.greylist", "greylisted", NULL,
                         verdict == MTA_GREYLIST_NEW
                           ? "greylisting: (%s, <%s>, <%s>) is new: deferred; a real MTA retries, and after %s it passes"
                           : "greylisting: (%s, <%s>, <%s>) retried too early: deferred again, %s still to wait",
                         client, reverse_path, forward_path, wait);
          return;
        }
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.greylist", "passed", NULL,
                     "greylisting: (%s, <%s>, <%s>) was seen before and waited: accepted", client, reverse_path,
                     forward_path);
    }
  if (self->rate_limit != NULL)
    mta_rate_limit_record (self->rate_limit, client, now);
}

static void
check_recipient (SmtpServer *server, const char *reverse_path, const char *forward_path,
                 SmtpReply *reply, gpointer user_data)
{
  ServerSession *session = user_data;
  Mta *self = session->mta;
  const char *domain = smtp_address_domain (forward_path);
  const LocalDomain *local = find_local_domain (self, domain);

  if (local != NULL)
    {
      /* The MTA knows its domains' mailboxes (Postfix's recipient maps), so
       * an unknown user is refused now rather than bounced later. */
      SimNode *store_node = sim_network_find_node_by_address (sim_world_get_network (self->world), local->address);
      SimRoleKind kind = SIM_ROLE_ROUTER;
      MailStore *store = store_node != NULL ? sim_world_find_role (self->world, sim_node_get_name (store_node), &kind) : NULL;
      if (store == NULL || kind != SIM_ROLE_STORE || !mail_store_has_user (store, forward_path))
        {
          reply->code = 550;
          reply->enhanced = g_strdup ("5.1.1");
          reply->text = g_strdup_printf ("<%s>: Recipient address rejected: User unknown in local recipient table",
                                         forward_path);
          return;
        }
      if (!policies_apply (session))
        return;
      if (session->dnsbl == DNSBL_PENDING)
        {
          /* The blocklist has not answered yet: this RCPT waits for it. */
          session->waiting_reverse_path = g_strdup (reverse_path);
          session->waiting_forward_path = g_strdup (forward_path);
          reply->code = SMTP_REPLY_PENDING;
          return;
        }
      check_recipient_policies (session, reverse_path, forward_path, reply);
      return;
    }
  if (smtp_server_get_auth_user (server) != NULL)
    return;
  for (guint i = 0; i < self->relay_clients->len; i++)
    if (g_array_index (self->relay_clients, guint32, i) == session->client_address)
      return;
  /* RFC 5321 3.6.2: relaying for strangers to other domains is refused:
   * an open relay would carry anyone's spam. */
  reply->code = 554;
  reply->enhanced = g_strdup ("5.7.1");
  reply->text = g_strdup_printf ("<%s>: Relay access denied", forward_path);
}

static void session_release (ServerSession *session);

/* Resumes the server after an asynchronous check; the session may end. */
static void
session_resume (ServerSession *session, const SmtpReply *reply)
{
  smtp_server_resume (session->server, reply);
  if (smtp_server_is_finished (session->server))
    session_release (session);
}

static void
spf_done (SpfResult result, const char *reason, gpointer user_data)
{
  ServerSession *session = user_data;
  Mta *self = session->mta;
  g_autofree char *key = NULL;
  SmtpReply reply = { 250, NULL, NULL };
  const char *domain = smtp_address_domain (session->spf_identity);

  g_clear_pointer (&session->spf, spf_check_free);
  session->spf_done = TRUE;
  session->spf_result = result;
  g_free (session->spf_reason);
  session->spf_reason = g_strdup (reason);
  key = g_strdup_printf ("mail.spf.%s", result == SPF_RESULT_TEMPERROR || result == SPF_RESULT_PERMERROR
                                          ? "error" : spf_result_to_string (result));
  sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", key, spf_result_to_string (result), NULL,
                 "SPF %s for %s: %s", spf_result_to_string (result), domain, reason);
  if (result == SPF_RESULT_FAIL && self->spf_reject_fail)
    {
      char client[16];
      /* RFC 7208 8.4: a rejected fail gets 550 5.7.23. */
      set_reply (&reply, 550, "5.7.23",
                 g_strdup_printf ("SPF: %s is not allowed to send mail from %s",
                                  sim_address_to_string (session->client_address, client), domain));
    }
  session_resume (session, &reply);
  g_free (reply.enhanced);
  g_free (reply.text);
}

static void
check_sender (SmtpServer *server, const char *reverse_path, SmtpReply *reply, gpointer user_data)
{
  ServerSession *session = user_data;
  Mta *self = session->mta;
  const char *helo = smtp_server_get_helo (server);

  session->spf_done = FALSE;
  g_clear_pointer (&session->spf_reason, g_free);
  g_clear_pointer (&session->spf_identity, g_free);
  if (!self->spf_check || self->stub == NULL || !policies_apply (session))
    return;
  /* RFC 7208 2.4: for the null reverse-path, the HELO name is checked. */
  session->spf_identity = reverse_path[0] != '\0' ? g_strdup (reverse_path)
                                                   : g_strdup_printf ("postmaster@%s", helo != NULL ? helo : "unknown");
  const char *domain = smtp_address_domain (session->spf_identity);
  if (domain == NULL)
    return;
  char client[16];
  sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.spf.check", "spf", NULL,
                 "SPF: may %s send mail from %s? reading %s's TXT record", 
                 sim_address_to_string (session->client_address, client), domain, domain);
  session->spf = spf_check_new (self->stub, session->client_address, domain, spf_done, session);
  reply->code = SMTP_REPLY_PENDING;
}

static gboolean
authenticate (SmtpServer *server, const char *user, const char *password, gpointer user_data)
{
  ServerSession *session = user_data;
  const char *expected = g_hash_table_lookup (session->mta->users, user);

  return expected != NULL && g_str_equal (expected, password);
}

static void
accept_message (SmtpServer *server, const SmtpEnvelope *envelope, GBytes *content,
                GPtrArray *replies, gpointer user_data)
{
  ServerSession *session = user_data;
  Mta *self = session->mta;
  SimTime now = sim_world_now (self->world);
  g_autofree char *id = NULL;
  g_autofree char *date = sim_time_to_rfc5322 (now);
  g_autoptr (GBytes) message = g_bytes_ref (content);
  char address[16];
  gboolean submission = smtp_server_get_service (server) == SMTP_SERVICE_SUBMISSION;

  if (mail_message_count_headers (content, "Received") >= MTA_MAX_RECEIVED)
    {
      /* RFC 5321 6.3: too many hops means a mail loop. */
      g_ptr_array_add (replies, smtp_reply_new (554, "5.4.6", "Error: too many hops (mail loop?)"));
      return;
    }
  id = sim_world_new_queue_id (self->world, self->node);
  if (submission)
    {
      /* RFC 6409 8.2 and 8.3: the submission server completes a message
       * that lacks a Date or a Message-ID. */
      if (mail_message_count_headers (message, "Date") == 0)
        {
          GBytes *fixed = mail_message_append_header (message, "Date", date);
          g_bytes_unref (message);
          message = fixed;
        }
      if (mail_message_count_headers (message, "Message-ID") == 0)
        {
          g_autofree char *message_id = g_strdup_printf ("<%s@%s>", id, self->hostname);
          GBytes *fixed = mail_message_append_header (message, "Message-ID", message_id);
          g_bytes_unref (message);
          message = fixed;
        }
    }
  /* RFC 3848: the "with" keyword says ESMTP, plus S under TLS and A
   * after AUTH; the "for" clause names the recipient when there is one. */
  g_autofree char *protocol = g_strdup_printf ("%s%s%s", smtp_server_get_esmtp (server) ? "ESMTP" : "SMTP",
                                               smtp_server_get_tls (server) ? "S" : "",
                                               smtp_server_get_auth_user (server) != NULL ? "A" : "");
  /* RFC 5321 4.4: every hop prepends a Received trace field. */
  g_autofree char *received = g_strdup_printf (
      "from %s (%s [%s])\r\n\tby %s (mailsim) with %s id %s%s%s%s;\r\n\t%s",
      smtp_server_get_helo (server),
      session->client_reverse_name != NULL ? session->client_reverse_name : "unknown",
      sim_address_to_string (session->client_address, address), self->hostname, protocol, id,
      envelope->recipients->len == 1 ? "\r\n\tfor <" : "",
      envelope->recipients->len == 1 ? (const char *) g_ptr_array_index (envelope->recipients, 0) : "",
      envelope->recipients->len == 1 ? ">" : "", date);
  GBytes *stamped = mail_message_prepend_header (message, "Received", received);
  g_bytes_unref (message);
  message = stamped;
  if (session->spf_done)
    {
      /* RFC 7208 9.1: the result travels with the message, above the
       * receiver's own Received field. */
      g_autofree char *spf = g_strdup_printf ("%s (%s: %s) client-ip=%s; envelope-from=\"%s\"; helo=%s;\r\n\treceiver=%s; identity=mailfrom",
                                              spf_result_to_string (session->spf_result), self->hostname,
                                              session->spf_reason, address, envelope->reverse_path,
                                              smtp_server_get_helo (server), self->hostname);
      stamped = mail_message_prepend_header (message, "Received-SPF", spf);
      g_bytes_unref (message);
      message = stamped;
    }
  if (self->spam_scoring && policies_apply (session))
    {
      g_autofree char *tests = NULL;
      guint score = mta_spam_score (message, &tests);
      if (session->spf_done && (session->spf_result == SPF_RESULT_FAIL || session->spf_result == SPF_RESULT_SOFTFAIL))
        {
          gboolean fail = session->spf_result == SPF_RESULT_FAIL;
          g_autofree char *more = g_strdup_printf ("%s%s", g_str_equal (tests, "none") ? "" : " ",
                                                   fail ? "SPF_FAIL" : "SPF_SOFTFAIL");
          score += fail ? MTA_SPAM_POINTS_SPF_FAIL : MTA_SPAM_POINTS_SPF_SOFTFAIL;
          if (g_str_equal (tests, "none"))
            g_clear_pointer (&tests, g_free);
          g_autofree char *joined = g_strconcat (tests != NULL ? tests : "", more, NULL);
          g_free (tests);
          tests = g_steal_pointer (&joined);
        }
      gboolean spam = score >= self->spam_threshold;
      g_autofree char *status = g_strdup_printf ("%s, score=%u required=%u tests=%s", spam ? "Yes" : "No", score,
                                                 self->spam_threshold, tests);
      stamped = mail_message_prepend_header (message, "X-Spam-Status", status);
      g_bytes_unref (message);
      message = stamped;
      if (spam)
        {
          stamped = mail_message_prepend_header (message, "X-Spam-Flag", "YES");
          g_bytes_unref (message);
          message = stamped;
        }
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", spam ? "mail.spam.junk" : "mail.spam.clean",
                     spam ? "spam" : "ham", id, "content score of message %s: %u (%s), threshold %u: %s", id, score,
                     tests, self->spam_threshold,
                     spam ? "marked as spam (X-Spam-Flag: YES), the mail store will file it in Junk"
                          : "not spam, it goes to the INBOX");
    }

  enqueue (self, id, envelope->reverse_path, envelope->recipients, message);
  /* A message handed over by another MTA of the world was counted when it
   * first entered; anything else (a user's client, a real client through
   * `mailsim serve`) brings a new message into the world. */
  SimRoleKind peer_kind = SIM_ROLE_ROUTER;
  SimNode *peer = sim_stream_get_peer_node (session->stream);
  if (peer == NULL || sim_world_find_role (self->world, sim_node_get_name (peer), &peer_kind) == NULL
      || peer_kind != SIM_ROLE_MTA)
    sim_world_count_accepted (self->world, envelope->recipients->len);
  sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.queued", "queued", id, "message %s from <%s> queued for %u recipient%s", id,
                 envelope->reverse_path, envelope->recipients->len, envelope->recipients->len == 1 ? "" : "s");
  g_autofree char *text = g_strdup_printf ("Ok: queued as %s", id);
  g_ptr_array_add (replies, smtp_reply_new (250, "2.0.0", text));
}

static const SmtpServerHandler server_handler = {
  check_recipient, authenticate, accept_message, check_sender,
};

static void
session_received (SimStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
  ServerSession *session = user_data;

  session_touch (session);
  smtp_server_feed (session->server, data, len);
  if (smtp_server_is_finished (session->server))
    session_release (session);
}

static void
session_closed (SimStream *stream, gpointer user_data)
{
  ServerSession *session = user_data;

  smtp_server_connection_lost (session->server);
  sim_stream_close (stream);
  session_release (session);
}

static void
session_failed (SimStream *stream, SimStreamError error, gpointer user_data)
{
  ServerSession *session = user_data;

  smtp_server_connection_lost (session->server);
  session_release (session);
}

static const SimStreamCallbacks session_callbacks = {
  NULL, session_received, session_closed, session_failed,
};

static void
dnsbl_settled (ServerSession *session)
{
  g_autofree char *reverse_path = g_steal_pointer (&session->waiting_reverse_path);
  g_autofree char *forward_path = g_steal_pointer (&session->waiting_forward_path);
  SmtpReply reply = { 250, NULL, NULL };

  if (forward_path == NULL)
    return;
  check_recipient_policies (session, reverse_path, forward_path, &reply);
  session_resume (session, &reply);
  g_free (reply.enhanced);
  g_free (reply.text);
}

static void
dnsbl_reason_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  ServerSession *session = user_data;
  g_autoptr (GString) reason = g_string_new (NULL);

  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len && reason->len == 0; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      for (guint s = 0; answer->type == DNS_TYPE_TXT && s < answer->strings->len; s++)
        g_string_append (reason, g_ptr_array_index (answer->strings, s));
    }
  session->dnsbl = DNSBL_LISTED;
  session->dnsbl_reason = g_strdup (reason->len > 0 ? reason->str : "listed");
  dnsbl_settled (session);
}

static void
dnsbl_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  ServerSession *session = user_data;
  Mta *self = session->mta;
  char client[16];
  g_autofree char *name = mta_dnsbl_query_name (session->client_address, self->dnsbl_zone);

  sim_address_to_string (session->client_address, client);
  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      /* RFC 5782 2.1: listed entries answer with an address in 127/8. */
      if (answer->type == DNS_TYPE_A && (dns_record_get_ipv4 (answer) >> 24) == 127)
        {
          char code[16];
          sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.dnsbl", "listed", NULL,
                         "%s answers %s for %s: the client %s is listed; asking the TXT record for the reason",
                         self->dnsbl_zone, sim_address_to_string (dns_record_get_ipv4 (answer), code), name, client);
          dns_stub_lookup (self->stub, name, DNS_TYPE_TXT, dnsbl_reason_found, session);
          return;
        }
    }
  /* RFC 5782 5: no answer, or a failed lookup, counts as not listed. */
  sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.dnsbl", "not-listed", NULL,
                 "%s has no entry for %s (%s): the client is not listed", self->dnsbl_zone, client,
                 dns_stub_status_to_string (status));
  session->dnsbl = DNSBL_CLEAN;
  dnsbl_settled (session);
}

/* The answer to the PTR lookup asked at connect: the first name it gives,
 * without the trailing dot, as Postfix writes it. */
static void
client_reverse_name_found (DnsStubStatus status, const DnsMessage *response, gpointer user_data)
{
  ServerSession *session = user_data;
  char client[16];

  sim_address_to_string (session->client_address, client);
  for (guint i = 0; status == DNS_STUB_ANSWER && i < response->answers->len; i++)
    {
      DnsRecord *answer = g_ptr_array_index (response->answers, i);
      if (answer->type != DNS_TYPE_PTR || answer->target == NULL || g_str_equal (answer->target, "."))
        continue;
      session->client_reverse_name = g_strndup (answer->target, strlen (answer->target) - 1);
      sim_node_emit (session->mta->node, SIM_EVENT_NOTE, session->client_name, "dns", "dns.ptr.lookup", "found",
                     NULL, "%s is %s (PTR): the Received field will name it", client,
                     session->client_reverse_name);
      return;
    }
  sim_node_emit (session->mta->node, SIM_EVENT_NOTE, session->client_name, "dns", "dns.ptr.lookup", "unknown", NULL,
                 "%s has no name in DNS (%s): the Received field will say \"unknown\"", client,
                 dns_stub_status_to_string (status));
}

static void
accept_connection (Mta *self, SimStream *stream, SmtpService service)
{
  ServerSession *session = g_new0 (ServerSession, 1);
  SimNode *peer = sim_stream_get_peer_node (stream);

  session->mta = self;
  session->stream = stream;
  session->client_address = sim_stream_get_peer_address (stream);
  /* The narration names the client by its node; the Received field by
   * what DNS says (below). */
  session->client_name = g_strdup (peer != NULL ? sim_node_get_name (peer) : "unknown");
  session->server = smtp_server_new (service, self->hostname, sim_stream_get_transport (stream),
                                     &server_handler, session);
  if (self->size_limit > 0)
    smtp_server_set_size_limit (session->server, self->size_limit);
  smtp_server_set_starttls (session->server, self->starttls);
  g_ptr_array_add (self->sessions, session);
  sim_stream_set_handler (stream, &session_callbacks, session);
  session_touch (session);
  if (self->stub != NULL)
    {
      /* RFC 5321 4.4: the Received field gives the client's address and,
       * when it resolves, its reverse name.  Asked now, used if it has
       * arrived when the message is accepted; session_free() cancels it. */
      g_autofree char *reverse = dns_name_reverse_ipv4 (session->client_address);
      char client[16];
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "dns", "dns.ptr.lookup", "reverse-lookup", NULL,
                     "who is %s? asking DNS for the PTR of %s",
                     sim_address_to_string (session->client_address, client), reverse);
      dns_stub_lookup (self->stub, reverse, DNS_TYPE_PTR, client_reverse_name_found, session);
    }
  if (self->dnsbl_zone != NULL && self->stub != NULL && service == SMTP_SERVICE_RELAY)
    {
      /* RFC 5782 2.1: asked at once, answered by the time RCPT comes. */
      g_autofree char *name = mta_dnsbl_query_name (session->client_address, self->dnsbl_zone);
      char client[16];
      session->dnsbl = DNSBL_PENDING;
      sim_node_emit (self->node, SIM_EVENT_NOTE, session->client_name, "mail", "mail.dnsbl", "lookup", NULL,
                     "is %s on the blocklist %s? asking DNS for %s",
                     sim_address_to_string (session->client_address, client), self->dnsbl_zone, name);
      dns_stub_lookup (self->stub, name, DNS_TYPE_A, dnsbl_found, session);
    }
  smtp_server_start (session->server);
}

static void
accept_smtp (SimStream *stream, gpointer user_data)
{
  accept_connection (user_data, stream, SMTP_SERVICE_RELAY);
}

static void
accept_submission (SimStream *stream, gpointer user_data)
{
  accept_connection (user_data, stream, SMTP_SERVICE_SUBMISSION);
}

/* ---- construction ---- */

Mta *
mta_new (SimWorld *world, SimNode *node)
{
  Mta *self = g_new0 (Mta, 1);

  self->world = world;
  self->node = node;
  self->hostname = sim_node_get_name (node);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->local_domains = g_array_new (FALSE, FALSE, sizeof (LocalDomain));
  self->relay_clients = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->retry_interval = MTA_DEFAULT_RETRY_INTERVAL;
  self->max_backoff = MTA_DEFAULT_MAX_BACKOFF;
  self->queue_lifetime = MTA_DEFAULT_QUEUE_LIFETIME;
  self->queue = g_ptr_array_new_with_free_func ((GDestroyNotify) queue_entry_free);
  self->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) session_free);
  self->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) attempt_free);
  self->jobs = g_ptr_array_new ();
  sim_node_listen (node, MTA_PORT_SMTP, "smtp", accept_smtp, self);
  return self;
}

void
mta_free (Mta *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->attempts);
  while (self->jobs->len > 0)
    job_free (g_ptr_array_index (self->jobs, self->jobs->len - 1));
  g_ptr_array_unref (self->jobs);
  g_ptr_array_unref (self->sessions);
  g_ptr_array_unref (self->queue);
  for (guint i = 0; i < self->local_domains->len; i++)
    g_free (g_array_index (self->local_domains, LocalDomain, i).domain);
  g_array_unref (self->local_domains);
  g_array_unref (self->relay_clients);
  g_hash_table_destroy (self->users);
  dns_stub_free (self->stub);
  mta_greylist_free (self->greylist);
  mta_rate_limit_free (self->rate_limit);
  g_free (self->dnsbl_zone);
  g_free (self);
}

void
mta_set_resolver (Mta *self, guint32 resolver_address)
{
  g_clear_pointer (&self->stub, dns_stub_free);
  self->resolver_address = resolver_address;
  self->stub = dns_stub_new (self->node, resolver_address);
}

void
mta_enable_submission (Mta *self)
{
  self->submission = TRUE;
  sim_node_listen (self->node, MTA_PORT_SUBMISSION, "smtp", accept_submission, self);
}

void
mta_add_user (Mta *self, const char *address, const char *password)
{
  g_hash_table_replace (self->users, g_strdup (address), g_strdup (password));
}

void
mta_add_local_domain (Mta *self, const char *domain, guint32 store_address)
{
  LocalDomain local = { g_strdup (domain), store_address };
  g_array_append_val (self->local_domains, local);
}

void
mta_set_smarthost (Mta *self, guint32 address)
{
  self->smarthost = address;
}

void
mta_add_relay_client (Mta *self, guint32 address)
{
  g_array_append_val (self->relay_clients, address);
}

void
mta_set_starttls (Mta *self, gboolean starttls)
{
  self->starttls = starttls;
}

void
mta_set_retry (Mta *self, SimTime interval, SimTime max_backoff, SimTime lifetime)
{
  self->retry_interval = interval;
  self->max_backoff = max_backoff > 0 ? max_backoff : MAX (interval, MTA_DEFAULT_MAX_BACKOFF);
  self->queue_lifetime = lifetime;
}

void
mta_set_size_limit (Mta *self, gsize limit)
{
  self->size_limit = limit;
}

void
mta_set_warn_after (Mta *self, SimTime delay)
{
  self->warn_after = delay;
}

void
mta_set_greylist (Mta *self, SimTime delay)
{
  g_clear_pointer (&self->greylist, mta_greylist_free);
  if (delay > 0)
    self->greylist = mta_greylist_new (delay);
}

void
mta_set_rate_limit (Mta *self, guint limit, SimTime window)
{
  g_clear_pointer (&self->rate_limit, mta_rate_limit_free);
  if (limit > 0)
    self->rate_limit = mta_rate_limit_new (limit, window);
}

void
mta_set_dnsbl (Mta *self, const char *zone)
{
  if (zone == NULL)
    {
      g_clear_pointer (&self->dnsbl_zone, g_free);
      return;
    }
  gsize length = strlen (zone);

  /* Kept without the root's dot, as people write it in replies. */
  g_free (self->dnsbl_zone);
  self->dnsbl_zone = g_strndup (zone, length > 1 && zone[length - 1] == '.' ? length - 1 : length);
}

void
mta_set_spam_threshold (Mta *self, guint threshold)
{
  self->spam_scoring = TRUE;
  self->spam_threshold = threshold;
}

void
mta_disable_spam_scoring (Mta *self)
{
  self->spam_scoring = FALSE;
}

void
mta_set_spf (Mta *self, gboolean check, gboolean reject_fail)
{
  self->spf_check = check;
  self->spf_reject_fail = reject_fail;
}

void
mta_host_down (Mta *self)
{
  guint abandoned = 0;

  /* The network has already dropped the host's connections; what was only
   * in memory goes with them: sessions, attempts, lookups in flight.  The
   * queue is a spool on disk (Postfix's deferred/ directory) and stays. */
  g_ptr_array_set_size (self->sessions, 0);
  g_ptr_array_set_size (self->attempts, 0);
  if (self->stub != NULL)
    {
      dns_stub_free (self->stub);
      self->stub = dns_stub_new (self->node, self->resolver_address);
    }
  while (self->jobs->len > 0)
    {
      DeliveryJob *job = g_ptr_array_index (self->jobs, self->jobs->len - 1);
      job_set_error (job, "the MTA's host went down during the attempt", "4.3.0");
      for (guint i = 0; i < job->recipients->len; i++)
        {
          QueueRecipient *recipient = g_ptr_array_index (job->recipients, i);
          if (recipient->state != RECIPIENT_PENDING)
            continue;
          g_free (recipient->last_reply);
          recipient->last_reply = g_strdup (job->last_error);
          g_free (recipient->status);
          recipient->status = g_strdup (job->last_status);
        }
      job_free (job);
    }
  for (guint i = 0; i < self->queue->len; i++)
    {
      QueueEntry *entry = g_ptr_array_index (self->queue, i);
      if (!entry->in_progress)
        continue;
      entry->in_progress = FALSE;
      entry->due = TRUE;
      abandoned++;
      sim_node_emit (self->node, SIM_EVENT_MAIL, "", "mail", "mail.spool", "deferred", entry->id,
                     "message %s deferred: the host went down during its delivery attempt; it stays in the spool",
                     entry->id);
    }
  sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.spool", "spool", NULL,
                 "%s is down: %u message%s kept in its queue on disk, %u attempt%s interrupted",
                 self->hostname, self->queue->len, self->queue->len == 1 ? "" : "s", abandoned,
                 abandoned == 1 ? "" : "s");
}

void
mta_host_up (Mta *self)
{
  SimScheduler *scheduler = sim_world_get_scheduler (self->world);
  guint due = 0;

  /* The queue manager starts again and first takes the mail whose retry
   * time passed while the host was down; the rest keeps its schedule. */
  for (guint i = 0; i < self->queue->len; i++)
    {
      QueueEntry *entry = g_ptr_array_index (self->queue, i);
      if (!entry->due)
        continue;
      sim_scheduler_cancel (scheduler, &entry->retry_timer);
      entry->retry_timer = sim_scheduler_after (scheduler, 0, attempt_delivery, entry, NULL);
      due++;
    }
  sim_node_emit (self->node, SIM_EVENT_NOTE, "", "mail", "mail.spool", "spool", NULL,
                 "%s is back up: its queue holds %u message%s, %u due for a retry now",
                 self->hostname, self->queue->len, self->queue->len == 1 ? "" : "s", due);
}

SimNode *
mta_get_node (Mta *self)
{
  return self->node;
}
