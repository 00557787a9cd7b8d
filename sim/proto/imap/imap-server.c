/* imap-server.c: an IMAP4rev1 server session, RFC 3501.
 *
 * Input is assembled into whole commands first: a line, and when it ends
 * with a literal announcement {n}, the n octets and the line that
 * continues after them (RFC 3501 4.3 and 7.5).  A whole command is then
 * parsed and handed to one small handler per command; the command table
 * says in which states of RFC 3501 section 3 each command is valid.
 */
#include "proto/imap/imap-server.h"

#include <stdio.h>
#include <string.h>

#include "proto/imap/imap-message.h"
#include "proto/imap/imap-parser.h"

/* The flags this store keeps (RFC 3501 2.3.2); keywords are not kept. */
#define IMAP_SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

typedef enum
{
  INPUT_COMMAND,         /* reading a command line */
  INPUT_LITERAL,         /* reading the octets of a literal */
  INPUT_DISCARD_LINE,    /* skipping the rest of an overlong line */
  INPUT_IDLE,            /* RFC 2177: waiting for DONE */
  INPUT_AUTHENTICATE,    /* RFC 3501 6.2.2: waiting for the client's response */
} ImapInput;

typedef struct
{
  guint32 uid;
  guint flags;           /* as this session last reported them */
  gboolean recent;       /* \Recent for this session */
} ImapViewEntry;

struct _ImapServer
{
  MailStore *store;
  char *hostname;
  SimTransport *transport;
  SimTime now;

  ImapState state;
  ImapInput input;
  GByteArray *received;  /* bytes not yet consumed */
  GByteArray *command;   /* the command being assembled, without its final CRLF */
  gsize literal_remaining;
  char *waiting_tag;     /* the tag of IDLE or AUTHENTICATE in progress */

  char *user;
  char *mailbox;
  gboolean read_only;
  /* RFC 3501 2.3.1.2: the session's own numbering of the selected mailbox:
   * message sequence number n is entry n-1.  It changes only when this
   * session reports EXISTS or EXPUNGE. */
  GArray *view;          /* of ImapViewEntry */
  guint reported_recent;
  guint observer_id;
};

typedef struct
{
  const char *tag;
  const char *name;      /* upper case, without "UID " */
  gboolean uid;
  ImapParser args;       /* positioned just after the command name */
} ImapRequest;

typedef void (*ImapCommandFunc) (ImapServer *self, ImapRequest *request);

typedef struct
{
  const char *name;
  guint states;          /* bit mask of ImapState */
  gboolean has_uid_form; /* RFC 3501 6.4.8 */
  /* RFC 3501 7.4.1: no EXPUNGE responses during FETCH, STORE or SEARCH. */
  gboolean may_report_expunge;
  ImapCommandFunc handle;
  const char *state_hint;
} ImapCommand;

#define ANY_STATE ((1u << IMAP_STATE_NOT_AUTHENTICATED) | (1u << IMAP_STATE_AUTHENTICATED) | (1u << IMAP_STATE_SELECTED))
#define NOT_AUTHENTICATED (1u << IMAP_STATE_NOT_AUTHENTICATED)
#define AUTHENTICATED ((1u << IMAP_STATE_AUTHENTICATED) | (1u << IMAP_STATE_SELECTED))
#define SELECTED (1u << IMAP_STATE_SELECTED)

/* ---- simulated calendar ---- */

/* Time 0 of every run is 2026-01-05 09:00:00 UTC. */
static GDateTime *
calendar_from_sim_time (SimTime time)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_utc (2026, 1, 5, 9, 0, 0);
  return g_date_time_add (epoch, time);
}

static const char *const month_names[] = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* RFC 3501 9, date-time: "05-Jan-2026 09:00:00 +0000" (quoted).  Month
 * names are English whatever the locale. */
static void
append_internal_date (GString *out, SimTime time)
{
  g_autoptr(GDateTime) date = calendar_from_sim_time (time);
  g_string_append_printf (out, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"",
                          g_date_time_get_day_of_month (date),
                          month_names[g_date_time_get_month (date) - 1],
                          g_date_time_get_year (date), g_date_time_get_hour (date),
                          g_date_time_get_minute (date), g_date_time_get_second (date));
}

static gboolean
parse_month (const char *text, int *month)
{
  for (int i = 0; i < 12; i++)
    if (g_ascii_strncasecmp (text, month_names[i], 3) == 0)
      {
        *month = i + 1;
        return TRUE;
      }
  return FALSE;
}

/* RFC 3501 9, date: "1-Feb-1994" or "01-Feb-1994"; as a Julian day number. */
static gboolean
parse_search_date (const char *text, guint32 *julian)
{
  int day, year, month;
  char month_text[4] = { 0 };
  char end;
  if (sscanf (text, "%2d-%3c-%4d%c", &day, month_text, &year, &end) != 3
      || !parse_month (month_text, &month) || !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    return FALSE;
  g_autoptr(GDate) date = g_date_new_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
  *julian = g_date_get_julian (date);
  return TRUE;
}

/* RFC 3501 6.4.4: SEARCH compares dates "disregarding time and timezone". */
static guint32
julian_day_of (SimTime time)
{
  g_autoptr(GDateTime) date = calendar_from_sim_time (time);
  g_autoptr(GDate) day = g_date_new_dmy ((GDateDay) g_date_time_get_day_of_month (date),
                                         (GDateMonth) g_date_time_get_month (date),
                                         (GDateYear) g_date_time_get_year (date));
  return g_date_get_julian (day);
}

/* RFC 3501 9, date-time: "dd-Mon-yyyy hh:mm:ss +zzzz", day may be " d". */
static gboolean
parse_date_time (const char *text, SimTime *out)
{
  int day, year, hour, minute, second;
  char month_text[4] = { 0 };
  char sign;
  int zone;
  char end;
  int month;
  if (strlen (text) != 26
      || sscanf (text, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%c", &day, month_text, &year, &hour,
                 &minute, &second, &sign, &zone, &end) != 8
      || (sign != '+' && sign != '-') || !parse_month (month_text, &month))
    return FALSE;
  g_autofree char *zone_text = g_strdup_printf ("%c%02d:%02d", sign, zone / 100, zone % 100);
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (zone_text);
  if (tz == NULL)
    return FALSE;
  g_autoptr(GDateTime) date = g_date_time_new (tz, year, month, day, hour, minute, second);
  g_autoptr(GDateTime) epoch = calendar_from_sim_time (0);
  if (date == NULL)
    return FALSE;
  *out = g_date_time_difference (date, epoch);
  return TRUE;
}

/* ---- writing responses ---- */

static void
send_text (ImapServer *self, GString *text, const char *explain_key)
{
  sim_transport_write (self->transport, text->str, text->len, explain_key);
}

static void G_GNUC_PRINTF (3, 4)
send_untagged (ImapServer *self, const char *explain_key, const char *format, ...)
{
  g_autoptr(GString) line = g_string_new ("* ");
  va_list args;
  va_start (args, format);
  g_string_append_vprintf (line, format, args);
  va_end (args);
  g_string_append (line, "\r\n");
  send_text (self, line, explain_key);
}

/* RFC 3501 7.1: tag SP ("OK" / "NO" / "BAD") SP [code] text. */
static void G_GNUC_PRINTF (5, 6)
send_tagged (ImapServer *self, const char *tag, const char *status, const char *explain_key,
             const char *format, ...)
{
  g_autoptr(GString) line = g_string_new (NULL);
  va_list args;
  g_string_append_printf (line, "%s %s ", tag != NULL ? tag : "*", status);
  va_start (args, format);
  g_string_append_vprintf (line, format, args);
  va_end (args);
  g_string_append (line, "\r\n");
  send_text (self, line, explain_key);
}

static void
append_flags (GString *out, guint flags, gboolean recent)
{
  static const struct { guint flag; const char *name; } names[] = {
    { MAIL_FLAG_SEEN, "\\Seen" },
    { MAIL_FLAG_ANSWERED, "\\Answered" },
    { MAIL_FLAG_FLAGGED, "\\Flagged" },
    { MAIL_FLAG_DELETED, "\\Deleted" },
    { MAIL_FLAG_DRAFT, "\\Draft" },
  };
  gboolean first = TRUE;
  g_string_append_c (out, '(');
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      {
        g_string_append_printf (out, "%s%s", first ? "" : " ", names[i].name);
        first = FALSE;
      }
  if (recent)
    g_string_append_printf (out, "%s\\Recent", first ? "" : " ");
  g_string_append_c (out, ')');
}

/* ---- the selected mailbox ---- */

static ImapViewEntry *
view_entry (ImapServer *self, guint index)
{
  return &g_array_index (self->view, ImapViewEntry, index);
}

static guint32
view_last_uid (ImapServer *self)
{
  return self->view->len > 0 ? view_entry (self, self->view->len - 1)->uid : 0;
}

static gboolean
view_find_uid (ImapServer *self, guint32 uid, guint *index_out)
{
  guint low = 0, high = self->view->len;
  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      guint32 found = view_entry (self, middle)->uid;
      if (found == uid)
        {
          *index_out = middle;
          return TRUE;
        }
      if (found < uid)
        low = middle + 1;
      else
        high = middle;
    }
  return FALSE;
}

static guint
view_count_recent (ImapServer *self)
{
  guint recent = 0;
  for (guint i = 0; i < self->view->len; i++)
    recent += view_entry (self, i)->recent ? 1 : 0;
  return recent;
}

static ImapViewEntry
view_entry_for (ImapServer *self, const MailStoreMessage *message)
{
  ImapViewEntry entry = { message->uid, message->flags, message->recent };
  /* RFC 3501 2.3.2: the first session to select a mailbox read-write
   * claims \Recent; EXAMINE only looks. */
  if (!self->read_only)
    entry.recent = mail_store_take_recent (self->store, self->user, self->mailbox, message->uid);
  return entry;
}

static void
send_flags_update (ImapServer *self, guint index, gboolean with_uid)
{
  ImapViewEntry *entry = view_entry (self, index);
  g_autoptr(GString) line = g_string_new (NULL);
  g_string_append_printf (line, "* %u FETCH (", index + 1);
  if (with_uid)
    g_string_append_printf (line, "UID %u ", entry->uid);
  g_string_append (line, "FLAGS ");
  append_flags (line, entry->flags, entry->recent);
  g_string_append (line, ")\r\n");
  send_text (self, line, "imap.data.fetch");
}

/* Brings the session's view up to date with the store and tells the
 * client: EXPUNGE for messages that went (only when @may_expunge, RFC 3501
 * 7.4.1), FETCH FLAGS for flags another session changed (RFC 3501 7.4.2),
 * EXISTS and RECENT for new messages (RFC 3501 7.3.1, 7.3.2). */
static void
sync_view (ImapServer *self, gboolean may_expunge)
{
  if (self->state != IMAP_STATE_SELECTED)
    return;
  for (guint i = 0; may_expunge && i < self->view->len;)
    {
      if (mail_store_get_message (self->store, self->user, self->mailbox, view_entry (self, i)->uid) == NULL)
        {
          send_untagged (self, "imap.data.expunge", "%u EXPUNGE", i + 1);
          g_array_remove_index (self->view, i);
        }
      else
        i++;
    }
  for (guint i = 0; i < self->view->len; i++)
    {
      ImapViewEntry *entry = view_entry (self, i);
      const MailStoreMessage *message = mail_store_get_message (self->store, self->user, self->mailbox, entry->uid);
      if (message != NULL && message->flags != entry->flags)
        {
          entry->flags = message->flags;
          send_flags_update (self, i, FALSE);
        }
    }
  g_autoptr(GPtrArray) messages = mail_store_list (self->store, self->user, self->mailbox);
  guint32 last_uid = view_last_uid (self);
  guint before = self->view->len;
  for (guint i = 0; messages != NULL && i < messages->len; i++)
    {
      const MailStoreMessage *message = g_ptr_array_index (messages, i);
      if (message->uid > last_uid)
        {
          ImapViewEntry entry = view_entry_for (self, message);
          g_array_append_val (self->view, entry);
        }
    }
  if (self->view->len != before)
    {
      self->reported_recent = view_count_recent (self);
      send_untagged (self, "imap.data.exists", "%u EXISTS", self->view->len);
      send_untagged (self, "imap.data.recent", "%u RECENT", self->reported_recent);
    }
}

static void
on_store_changed (MailStore *store, const char *address, const char *folder,
                  MailStoreChange change, guint32 uid, gpointer user_data)
{
  ImapServer *self = user_data;
  /* RFC 2177 3: in IDLE the server reports changes as they happen; at
   * other times they wait for the end of the next command. */
  if (self->input == INPUT_IDLE)
    sync_view (self, TRUE);
}

static void
deselect (ImapServer *self)
{
  if (self->observer_id != 0)
    mail_store_remove_observer (self->store, self->observer_id);
  self->observer_id = 0;
  g_clear_pointer (&self->mailbox, g_free);
  g_array_set_size (self->view, 0);
  self->reported_recent = 0;
  if (self->state == IMAP_STATE_SELECTED)
    self->state = IMAP_STATE_AUTHENTICATED;
}

/* ---- completing commands ---- */

static void
complete_ok (ImapServer *self, ImapRequest *request, gboolean may_expunge,
             const char *explain_key, const char *text)
{
  sync_view (self, may_expunge);
  send_tagged (self, request->tag, "OK", explain_key, "%s", text);
}

static void
complete_no (ImapServer *self, ImapRequest *request, const char *explain_key, const char *text)
{
  sync_view (self, FALSE);
  send_tagged (self, request->tag, "NO", explain_key, "%s", text);
}

static void
reply_syntax_error (ImapServer *self, ImapRequest *request, const char *expected)
{
  send_tagged (self, request->tag, "BAD", "imap.bad.syntax",
               "%s: syntax error, expected %s (RFC 3501 9)", request->name, expected);
}

static gboolean
expect_space (ImapServer *self, ImapRequest *request, const char *expected)
{
  if (imap_parser_skip_space (&request->args))
    return TRUE;
  reply_syntax_error (self, request, expected);
  return FALSE;
}

static gboolean
expect_end (ImapServer *self, ImapRequest *request)
{
  if (imap_parser_at_end (&request->args))
    return TRUE;
  reply_syntax_error (self, request, "the end of the command");
  return FALSE;
}

static char *
read_mailbox_argument (ImapServer *self, ImapRequest *request)
{
  char *mailbox = imap_parser_read_astring (&request->args);
  if (mailbox == NULL)
    reply_syntax_error (self, request, "a mailbox name");
  return mailbox;
}

/* Maps a store failure to the response codes of RFC 3501 7.1 and RFC 5530. */
static void
complete_store_error (ImapServer *self, ImapRequest *request, const GError *error, gboolean try_create)
{
  g_autofree char *text = NULL;
  const char *key = "imap.no";
  if (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_NO_SUCH_FOLDER))
    {
      /* RFC 3501 6.3.11, 6.4.7: TRYCREATE tells APPEND and COPY to CREATE first. */
      text = g_strdup_printf ("[%s] %s", try_create ? "TRYCREATE" : "NONEXISTENT", error->message);
      key = try_create ? "imap.no.trycreate" : "imap.no.nonexistent";
    }
  else if (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_QUOTA))
    {
      text = g_strdup_printf ("[OVERQUOTA] %s", error->message);
      key = "imap.no.overquota";
    }
  else if (g_error_matches (error, MAIL_STORE_ERROR, MAIL_STORE_ERROR_EXISTS))
    text = g_strdup_printf ("[ALREADYEXISTS] %s", error->message);
  else
    text = g_strdup_printf ("[CANNOT] %s", error->message);
  complete_no (self, request, key, text);
}

/* ---- any state: CAPABILITY, NOOP, LOGOUT (RFC 3501 6.1) ---- */

static void
handle_capability (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  send_untagged (self, "imap.data.capability", "CAPABILITY %s", IMAP_SERVER_CAPABILITIES);
  complete_ok (self, request, FALSE, "imap.ok", "CAPABILITY completed");
}

static void
handle_noop (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  /* RFC 3501 6.1.2: NOOP is how a client polls for new messages. */
  complete_ok (self, request, TRUE, "imap.ok.noop", "NOOP completed");
}

static void
handle_logout (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  send_untagged (self, "imap.bye.logout", "BYE %s IMAP4rev1 server logging out", self->hostname);
  deselect (self);
  self->state = IMAP_STATE_LOGOUT;
  send_tagged (self, request->tag, "OK", "imap.ok.logout", "LOGOUT completed");
  sim_transport_close (self->transport);
}

/* ---- not authenticated: LOGIN, AUTHENTICATE (RFC 3501 6.2) ---- */

static void
log_in (ImapServer *self, const char *tag, const char *user, const char *password, const char *command)
{
  if (!mail_store_check_password (self->store, user, password))
    {
      /* RFC 5530 3: AUTHENTICATIONFAILED, without saying which part was wrong. */
      send_tagged (self, tag, "NO", "imap.no.login", "[AUTHENTICATIONFAILED] Invalid credentials");
      return;
    }
  g_free (self->user);
  self->user = g_strdup (user);
  self->state = IMAP_STATE_AUTHENTICATED;
  send_tagged (self, tag, "OK", "imap.ok.login", "%s completed", command);
}

static void
handle_login (ImapServer *self, ImapRequest *request)
{
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  if (!expect_space (self, request, "SP user"))
    return;
  user = imap_parser_read_astring (&request->args);
  if (user == NULL || !imap_parser_skip_space (&request->args)
      || (password = imap_parser_read_astring (&request->args)) == NULL)
    {
      reply_syntax_error (self, request, "LOGIN user password");
      return;
    }
  if (!expect_end (self, request))
    return;
  log_in (self, request->tag, user, password, "LOGIN");
}

/* RFC 4616 2: message = [authzid] NUL authcid NUL passwd. */
static void
authenticate_plain (ImapServer *self, const char *tag, const char *base64)
{
  gsize len = strlen (base64);
  gboolean valid = len % 4 == 0;
  for (gsize i = 0; valid && i < len; i++)
    valid = g_ascii_isalnum (base64[i]) || base64[i] == '+' || base64[i] == '/' || base64[i] == '=';
  if (!valid)
    {
      send_tagged (self, tag, "BAD", "imap.bad.syntax", "AUTHENTICATE: the response is not base64 (RFC 3501 6.2.2)");
      return;
    }
  gsize size = 0;
  g_autofree guchar *decoded = g_base64_decode (base64, &size);
  const guchar *end = decoded + size;
  const guchar *first_nul = size > 0 ? memchr (decoded, '\0', size) : NULL;
  const guchar *second_nul = first_nul != NULL ? memchr (first_nul + 1, '\0', (gsize) (end - first_nul - 1)) : NULL;
  if (second_nul == NULL || memchr (second_nul + 1, '\0', (gsize) (end - second_nul - 1)) != NULL)
    {
      send_tagged (self, tag, "BAD", "imap.bad.syntax",
                   "AUTHENTICATE PLAIN: expected authzid NUL authcid NUL password (RFC 4616 2)");
      return;
    }
  g_autofree char *authzid = g_strndup ((const char *) decoded, (gsize) (first_nul - decoded));
  g_autofree char *authcid = g_strndup ((const char *) first_nul + 1, (gsize) (second_nul - first_nul - 1));
  g_autofree char *password = g_strndup ((const char *) second_nul + 1, (gsize) (end - second_nul - 1));
  if (*authzid != '\0' && strcmp (authzid, authcid) != 0)
    {
      send_tagged (self, tag, "NO", "imap.no.login",
                   "[AUTHORIZATIONFAILED] Acting as another user is not allowed here");
      return;
    }
  log_in (self, tag, authcid, password, "AUTHENTICATE");
}

static void
handle_authenticate (ImapServer *self, ImapRequest *request)
{
  g_autofree char *mechanism = NULL;
  if (!expect_space (self, request, "SP mechanism"))
    return;
  mechanism = imap_parser_read_atom (&request->args);
  if (mechanism == NULL)
    {
      reply_syntax_error (self, request, "a SASL mechanism name");
      return;
    }
  if (g_ascii_strcasecmp (mechanism, "PLAIN") != 0)
    {
      send_tagged (self, request->tag, "NO", "imap.no",
                   "Unsupported authentication mechanism %s; this server offers AUTH=PLAIN", mechanism);
      return;
    }
  if (imap_parser_skip_space (&request->args))
    {
      /* RFC 4959: the initial response in the command; "=" is an empty one. */
      g_autofree char *initial = imap_parser_read_atom (&request->args);
      if (initial == NULL || !expect_end (self, request))
        {
          if (initial == NULL)
            reply_syntax_error (self, request, "a base64 initial response");
          return;
        }
      authenticate_plain (self, request->tag, strcmp (initial, "=") == 0 ? "" : initial);
      return;
    }
  if (!expect_end (self, request))
    return;
  g_free (self->waiting_tag);
  self->waiting_tag = g_strdup (request->tag);
  self->input = INPUT_AUTHENTICATE;
  /* RFC 4616 2: PLAIN starts with an empty challenge. */
  sim_transport_write_string (self->transport, "+ \r\n", "imap.continue.authenticate");
}

static void
handle_authenticate_line (ImapServer *self, const char *line)
{
  g_autofree char *tag = g_steal_pointer (&self->waiting_tag);
  self->input = INPUT_COMMAND;
  /* RFC 3501 6.2.2: "*" cancels the exchange. */
  if (strcmp (line, "*") == 0)
    {
      send_tagged (self, tag, "BAD", "imap.bad.cancelled", "AUTHENTICATE cancelled");
      return;
    }
  authenticate_plain (self, tag, line);
}

/* ---- authenticated: SELECT ... APPEND (RFC 3501 6.3) ---- */

static void
select_mailbox (ImapServer *self, ImapRequest *request, gboolean read_only)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(GError) error = NULL;
  MailStoreFolderStatus status;

  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  /* RFC 3501 6.3.1: a SELECT while selected first leaves the old mailbox,
   * without expunging, whether or not the new one can be selected. */
  deselect (self);
  if (!mail_store_get_status (self->store, self->user, mailbox, &status, &error))
    {
      complete_store_error (self, request, error, FALSE);
      return;
    }
  self->mailbox = g_strdup (mailbox);
  self->read_only = read_only;
  self->state = IMAP_STATE_SELECTED;
  g_autoptr(GPtrArray) messages = mail_store_list (self->store, self->user, mailbox);
  for (guint i = 0; i < messages->len; i++)
    {
      ImapViewEntry entry = view_entry_for (self, g_ptr_array_index (messages, i));
      g_array_append_val (self->view, entry);
    }
  self->reported_recent = view_count_recent (self);
  self->observer_id = mail_store_add_observer (self->store, on_store_changed, self);

  send_untagged (self, "imap.data.flags", "FLAGS (%s)", IMAP_SYSTEM_FLAGS);
  send_untagged (self, "imap.data.exists", "%u EXISTS", self->view->len);
  send_untagged (self, "imap.data.recent", "%u RECENT", self->reported_recent);
  if (status.first_unseen != 0)
    send_untagged (self, "imap.code.unseen", "OK [UNSEEN %u] Message %u is first unseen",
                   status.first_unseen, status.first_unseen);
  send_untagged (self, "imap.code.uidvalidity", "OK [UIDVALIDITY %u] UIDs valid", status.uid_validity);
  send_untagged (self, "imap.code.uidnext", "OK [UIDNEXT %u] Predicted next UID", status.uid_next);
  send_untagged (self, "imap.code.permanentflags", "OK [PERMANENTFLAGS (%s)] %s",
                 read_only ? "" : IMAP_SYSTEM_FLAGS,
                 read_only ? "No permanent flags permitted" : "Limited");
  send_tagged (self, request->tag, "OK", read_only ? "imap.ok.examine" : "imap.ok.select",
               "[%s] %s completed", read_only ? "READ-ONLY" : "READ-WRITE", request->name);
}

static void
handle_select (ImapServer *self, ImapRequest *request)
{
  select_mailbox (self, request, FALSE);
}

static void
handle_examine (ImapServer *self, ImapRequest *request)
{
  select_mailbox (self, request, TRUE);
}

static void
handle_create (ImapServer *self, ImapRequest *request)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(GError) error = NULL;
  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  /* RFC 3501 6.3.3: a trailing delimiter only declares the intent to
   * create inferiors; superiors are created as needed. */
  gsize len = strlen (mailbox);
  if (len > 1 && mailbox[len - 1] == MAIL_STORE_HIERARCHY_DELIMITER)
    mailbox[len - 1] = '\0';
  if (g_ascii_strcasecmp (mailbox, MAIL_STORE_INBOX) == 0)
    {
      complete_no (self, request, "imap.no", "[ALREADYEXISTS] INBOX always exists (RFC 3501 6.3.3)");
      return;
    }
  for (char *p = strchr (mailbox, MAIL_STORE_HIERARCHY_DELIMITER); p != NULL;
       p = strchr (p + 1, MAIL_STORE_HIERARCHY_DELIMITER))
    {
      g_autofree char *superior = g_strndup (mailbox, (gsize) (p - mailbox));
      if (!mail_store_has_folder (self->store, self->user, superior))
        mail_store_create_folder (self->store, self->user, superior, NULL);
    }
  if (!mail_store_create_folder (self->store, self->user, mailbox, &error))
    {
      complete_store_error (self, request, error, FALSE);
      return;
    }
  complete_ok (self, request, FALSE, "imap.ok", "CREATE completed");
}

static void
handle_delete (ImapServer *self, ImapRequest *request)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(GError) error = NULL;
  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  if (!mail_store_delete_folder (self->store, self->user, mailbox, &error))
    {
      complete_store_error (self, request, error, FALSE);
      return;
    }
  complete_ok (self, request, FALSE, "imap.ok", "DELETE completed");
}

static void
handle_rename (ImapServer *self, ImapRequest *request)
{
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autoptr(GError) error = NULL;
  if (!expect_space (self, request, "SP mailbox") || (from = read_mailbox_argument (self, request)) == NULL
      || !expect_space (self, request, "SP new-mailbox") || (to = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  if (!mail_store_rename_folder (self->store, self->user, from, to, &error))
    {
      complete_store_error (self, request, error, FALSE);
      return;
    }
  complete_ok (self, request, FALSE, "imap.ok", "RENAME completed");
}

static void
subscribe (ImapServer *self, ImapRequest *request, gboolean subscribed)
{
  g_autofree char *mailbox = NULL;
  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  mail_store_subscribe (self->store, self->user, mailbox, subscribed);
  complete_ok (self, request, FALSE, "imap.ok", subscribed ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

static void
handle_subscribe (ImapServer *self, ImapRequest *request)
{
  subscribe (self, request, TRUE);
}

static void
handle_unsubscribe (ImapServer *self, ImapRequest *request)
{
  subscribe (self, request, FALSE);
}

/* RFC 3501 6.3.8: "*" matches anything, "%" anything but the delimiter. */
static gboolean
pattern_matches (const char *pattern, const char *name)
{
  if (*pattern == '\0')
    return *name == '\0';
  if (*pattern == '*' || *pattern == '%')
    {
      for (const char *rest = name;; rest++)
        {
          if (pattern_matches (pattern + 1, rest))
            return TRUE;
          if (*rest == '\0' || (*pattern == '%' && *rest == MAIL_STORE_HIERARCHY_DELIMITER))
            return FALSE;
        }
    }
  return *name != '\0' && *pattern == *name && pattern_matches (pattern + 1, name + 1);
}

static gboolean
mailbox_matches (const char *pattern, const char *name)
{
  /* RFC 3501 5.1: INBOX is case-insensitive. */
  if (g_ascii_strcasecmp (name, MAIL_STORE_INBOX) == 0 && g_ascii_strcasecmp (pattern, MAIL_STORE_INBOX) == 0)
    return TRUE;
  return pattern_matches (pattern, name);
}

static void
list_mailboxes (ImapServer *self, ImapRequest *request, gboolean subscribed_only)
{
  g_autofree char *reference = NULL;
  g_autofree char *pattern = NULL;
  const char *response = subscribed_only ? "LSUB" : "LIST";
  if (!expect_space (self, request, "SP reference") || (reference = imap_parser_read_astring (&request->args)) == NULL
      || !imap_parser_skip_space (&request->args)
      || (pattern = imap_parser_read_list_mailbox (&request->args)) == NULL)
    {
      reply_syntax_error (self, request, "reference SP mailbox-pattern");
      return;
    }
  if (!expect_end (self, request))
    return;
  if (*pattern == '\0' && !subscribed_only)
    {
      /* RFC 3501 6.3.8: an empty pattern asks for the delimiter and root. */
      send_untagged (self, "imap.data.list", "LIST (\\Noselect) \"%c\" \"\"", MAIL_STORE_HIERARCHY_DELIMITER);
      complete_ok (self, request, FALSE, "imap.ok", "LIST completed");
      return;
    }
  g_autofree char *full = g_strconcat (reference, pattern, NULL);
  g_autoptr(GPtrArray) names = subscribed_only ? mail_store_list_subscriptions (self->store, self->user)
                                               : mail_store_list_folders (self->store, self->user);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      if (!mailbox_matches (full, name))
        continue;
      g_autoptr(GString) line = g_string_new (NULL);
      g_string_append_printf (line, "* %s () \"%c\" ", response, MAIL_STORE_HIERARCHY_DELIMITER);
      imap_append_astring (line, name);
      g_string_append (line, "\r\n");
      send_text (self, line, subscribed_only ? "imap.data.lsub" : "imap.data.list");
    }
  complete_ok (self, request, FALSE, "imap.ok", subscribed_only ? "LSUB completed" : "LIST completed");
}

static void
handle_list (ImapServer *self, ImapRequest *request)
{
  list_mailboxes (self, request, FALSE);
}

static void
handle_lsub (ImapServer *self, ImapRequest *request)
{
  list_mailboxes (self, request, TRUE);
}

static void
handle_status (ImapServer *self, ImapRequest *request)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) line = g_string_new ("* STATUS ");
  MailStoreFolderStatus status;
  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL)
    return;
  if (!imap_parser_skip_space (&request->args) || !imap_parser_skip_char (&request->args, '('))
    {
      reply_syntax_error (self, request, "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)");
      return;
    }
  gboolean have_status = mail_store_get_status (self->store, self->user, mailbox, &status, &error);
  imap_append_astring (line, mailbox);
  g_string_append (line, " (");
  for (gboolean first = TRUE;; first = FALSE)
    {
      if (imap_parser_skip_char (&request->args, ')'))
        break;
      g_autofree char *item = NULL;
      if ((!first && !imap_parser_skip_space (&request->args))
          || (item = imap_parser_read_atom (&request->args)) == NULL)
        {
          reply_syntax_error (self, request, "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)");
          return;
        }
      guint value;
      if (g_ascii_strcasecmp (item, "MESSAGES") == 0)
        value = status.messages;
      else if (g_ascii_strcasecmp (item, "RECENT") == 0)
        value = status.recent;
      else if (g_ascii_strcasecmp (item, "UIDNEXT") == 0)
        value = status.uid_next;
      else if (g_ascii_strcasecmp (item, "UIDVALIDITY") == 0)
        value = status.uid_validity;
      else if (g_ascii_strcasecmp (item, "UNSEEN") == 0)
        value = status.unseen;
      else
        {
          send_tagged (self, request->tag, "BAD", "imap.bad.syntax",
                       "STATUS: unknown item %s; use MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN (RFC 3501 6.3.10)", item);
          return;
        }
      g_autofree char *upper = g_ascii_strup (item, -1);
      g_string_append_printf (line, "%s%s %u", first ? "" : " ", upper, have_status ? value : 0);
    }
  if (!expect_end (self, request))
    return;
  if (!have_status)
    {
      complete_store_error (self, request, error, FALSE);
      return;
    }
  g_string_append (line, ")\r\n");
  send_text (self, line, "imap.data.status");
  complete_ok (self, request, FALSE, "imap.ok", "STATUS completed");
}

static gboolean
flag_from_name (const char *name, guint *flag)
{
  static const struct { const char *name; guint flag; } flags[] = {
    { "\\Seen", MAIL_FLAG_SEEN },
    { "\\Answered", MAIL_FLAG_ANSWERED },
    { "\\Flagged", MAIL_FLAG_FLAGGED },
    { "\\Deleted", MAIL_FLAG_DELETED },
    { "\\Draft", MAIL_FLAG_DRAFT },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    if (g_ascii_strcasecmp (name, flags[i].name) == 0)
      {
        *flag = flags[i].flag;
        return TRUE;
      }
  /* Keywords are valid syntax but this store does not keep them
   * (PERMANENTFLAGS has no \*); \Recent cannot be stored (RFC 3501 2.3.2). */
  *flag = 0;
  return name[0] != '\\';
}

/* flag-list = "(" [flag *(SP flag)] ")"; or, for STORE, flags without
 * parentheses.  FALSE on a syntax error or a flag that cannot be set. */
static gboolean
read_flags (ImapParser *args, gboolean parenthesised, guint *flags)
{
  *flags = 0;
  if (parenthesised && !imap_parser_skip_char (args, '('))
    return FALSE;
  if (parenthesised && imap_parser_skip_char (args, ')'))
    return TRUE;
  for (;;)
    {
      g_autofree char *name = imap_parser_read_flag (args);
      guint flag;
      if (name == NULL || !flag_from_name (name, &flag))
        return FALSE;
      *flags |= flag;
      if (parenthesised && imap_parser_skip_char (args, ')'))
        return TRUE;
      if (!imap_parser_skip_space (args))
        return !parenthesised;
    }
}

static void
handle_append (ImapServer *self, ImapRequest *request)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  guint flags = 0;
  SimTime internal_date = self->now;
  char next;

  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_space (self, request, "SP [flags] [date-time] literal"))
    return;
  if (imap_parser_peek (&request->args, &next) && next == '(')
    {
      if (!read_flags (&request->args, TRUE, &flags) || !imap_parser_skip_space (&request->args))
        {
          reply_syntax_error (self, request, "a flag list such as (\\Seen \\Draft)");
          return;
        }
    }
  if (imap_parser_peek (&request->args, &next) && next == '"')
    {
      g_autofree char *date_text = imap_parser_read_astring (&request->args);
      if (date_text == NULL || !parse_date_time (date_text, &internal_date)
          || !imap_parser_skip_space (&request->args))
        {
          reply_syntax_error (self, request, "a date-time such as \"05-Jan-2026 09:00:00 +0000\"");
          return;
        }
    }
  if (!imap_parser_peek (&request->args, &next) || next != '{'
      || (message = imap_parser_read_string (&request->args)) == NULL)
    {
      reply_syntax_error (self, request, "the message as a literal {size}");
      return;
    }
  if (!expect_end (self, request))
    return;
  if (g_bytes_get_size (message) == 0)
    {
      complete_no (self, request, "imap.no", "[CANNOT] An empty message cannot be appended");
      return;
    }
  if (!mail_store_append (self->store, self->user, mailbox, message, flags, internal_date, NULL, &error))
    {
      complete_store_error (self, request, error, TRUE);
      return;
    }
  complete_ok (self, request, FALSE, "imap.ok.append", "APPEND completed");
}

static void
handle_idle (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  g_free (self->waiting_tag);
  self->waiting_tag = g_strdup (request->tag);
  self->input = INPUT_IDLE;
  sim_transport_write_string (self->transport, "+ idling\r\n", "imap.continue.idle");
  sync_view (self, TRUE);
}

static void
handle_idle_line (ImapServer *self, const char *line)
{
  g_autofree char *tag = g_steal_pointer (&self->waiting_tag);
  self->input = INPUT_COMMAND;
  if (g_ascii_strcasecmp (line, "DONE") != 0)
    {
      send_tagged (self, tag, "BAD", "imap.bad.syntax", "Expected DONE to end IDLE (RFC 2177 3)");
      return;
    }
  sync_view (self, TRUE);
  send_tagged (self, tag, "OK", "imap.ok.idle", "IDLE terminated");
}

/* ---- selected: CHECK ... UID (RFC 3501 6.4) ---- */

static void
handle_check (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  complete_ok (self, request, TRUE, "imap.ok", "CHECK completed");
}

static void
handle_close (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  /* RFC 3501 6.4.2: CLOSE expunges silently unless the mailbox is read-only. */
  if (!self->read_only)
    mail_store_expunge (self->store, self->user, self->mailbox, NULL, NULL);
  deselect (self);
  send_tagged (self, request->tag, "OK", "imap.ok.close", "CLOSE completed");
}

static void
handle_expunge (ImapServer *self, ImapRequest *request)
{
  if (!expect_end (self, request))
    return;
  if (self->read_only)
    {
      complete_no (self, request, "imap.no.read-only", "[READ-ONLY] The mailbox was opened with EXAMINE");
      return;
    }
  sync_view (self, TRUE);
  g_autoptr(GArray) expunged = g_array_new (FALSE, FALSE, sizeof (guint32));
  mail_store_expunge (self->store, self->user, self->mailbox, expunged, NULL);
  /* RFC 3501 7.4.1: each EXPUNGE renumbers the messages after it, so the
   * numbers are those of the moment each one is sent. */
  for (guint i = 0; i < expunged->len; i++)
    {
      guint index;
      if (view_find_uid (self, g_array_index (expunged, guint32, i), &index))
        {
          send_untagged (self, "imap.data.expunge", "%u EXPUNGE", index + 1);
          g_array_remove_index (self->view, index);
        }
    }
  complete_ok (self, request, TRUE, "imap.ok", "EXPUNGE completed");
}

/* Reads a sequence set and checks message numbers against the mailbox
 * (RFC 3501 9: a message number beyond EXISTS is invalid; UIDs need not exist). */
static GArray *
read_set (ImapServer *self, ImapRequest *request)
{
  g_autofree char *text = NULL;
  if (!expect_space (self, request, "SP sequence-set"))
    return NULL;
  text = imap_parser_read_sequence_set (&request->args);
  g_autoptr(GArray) ranges = text != NULL ? imap_sequence_set_parse (text) : NULL;
  if (ranges == NULL)
    {
      reply_syntax_error (self, request, "a sequence set such as 1:3,5,7:*");
      return NULL;
    }
  if (!request->uid && imap_sequence_set_max (ranges, self->view->len) > self->view->len)
    {
      send_tagged (self, request->tag, "BAD", "imap.bad.sequence",
                   "%s: message %s does not exist; this mailbox has %u messages", request->name,
                   text, self->view->len);
      return NULL;
    }
  return g_steal_pointer (&ranges);
}

static gboolean
set_matches (ImapServer *self, ImapRequest *request, const GArray *ranges, guint index)
{
  if (request->uid)
    return imap_sequence_set_contains (ranges, view_entry (self, index)->uid, view_last_uid (self));
  return imap_sequence_set_contains (ranges, index + 1, self->view->len);
}

/* ---- FETCH ---- */

typedef enum
{
  FETCH_UID,
  FETCH_FLAGS,
  FETCH_INTERNALDATE,
  FETCH_RFC822_SIZE,
  FETCH_ENVELOPE,
  FETCH_BODY_STRUCTURE,  /* BODY */
  FETCH_BODYSTRUCTURE,
  FETCH_SECTION,         /* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
} FetchKind;

typedef enum
{
  SECTION_ALL,
  SECTION_HEADER,
  SECTION_HEADER_FIELDS,
  SECTION_HEADER_FIELDS_NOT,
  SECTION_TEXT,
  SECTION_PART_ONE,      /* "1" of a single-part message is its body */
} SectionKind;

typedef struct
{
  FetchKind kind;
  SectionKind section;
  gboolean sets_seen;
  gboolean partial;
  guint32 origin;
  guint32 count;
  char **fields;
  char *label;           /* how the response names it: "BODY[HEADER.FIELDS (FROM)]" */
} FetchItem;

static void
fetch_item_free (FetchItem *item)
{
  g_strfreev (item->fields);
  g_free (item->label);
  g_free (item);
}

static gboolean
is_fetch_name_char (guint8 c)
{
  return g_ascii_isalnum (c) || c == '.';
}

static char *
read_fetch_name (ImapParser *args)
{
  gsize start = args->pos;
  while (args->pos < args->len && is_fetch_name_char (args->data[args->pos]))
    args->pos++;
  return args->pos > start ? g_ascii_strup ((const char *) args->data + start, (gssize) (args->pos - start)) : NULL;
}

/* section = "[" [section-spec] "]" (RFC 3501 9), then optional <origin.count>. */
static gboolean
read_section (ImapParser *args, FetchItem *item, GString *label)
{
  g_autofree char *spec = read_fetch_name (args);
  if (spec == NULL)
    item->section = SECTION_ALL;
  else if (strcmp (spec, "HEADER") == 0)
    item->section = SECTION_HEADER;
  else if (strcmp (spec, "TEXT") == 0 || strcmp (spec, "1.TEXT") == 0)
    item->section = SECTION_TEXT;
  else if (strcmp (spec, "1") == 0)
    item->section = SECTION_PART_ONE;
  else if (strcmp (spec, "HEADER.FIELDS") == 0 || strcmp (spec, "HEADER.FIELDS.NOT") == 0)
    {
      item->section = strcmp (spec, "HEADER.FIELDS") == 0 ? SECTION_HEADER_FIELDS : SECTION_HEADER_FIELDS_NOT;
      g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
      if (!imap_parser_skip_space (args) || !imap_parser_skip_char (args, '('))
        return FALSE;
      g_string_append_printf (label, "%s (", spec);
      do
        {
          char *field = imap_parser_read_astring (args);
          if (field == NULL)
            return FALSE;
          char *upper = g_ascii_strup (field, -1);
          g_string_append_printf (label, "%s%s", fields->len > 0 ? " " : "", upper);
          g_free (upper);
          g_ptr_array_add (fields, field);
        }
      while (imap_parser_skip_space (args));
      if (!imap_parser_skip_char (args, ')'))
        return FALSE;
      g_string_append_c (label, ')');
      g_ptr_array_add (fields, NULL);
      item->fields = (char **) g_ptr_array_steal (fields, NULL);
      spec[0] = '\0';
    }
  else
    return FALSE;
  if (spec != NULL)
    g_string_append (label, spec);
  if (!imap_parser_skip_char (args, ']'))
    return FALSE;
  g_string_append_c (label, ']');
  if (imap_parser_skip_char (args, '<'))
    {
      /* RFC 3501 6.4.5: <origin.count>; the response names only the origin. */
      if (!imap_parser_read_number (args, &item->origin) || !imap_parser_skip_char (args, '.')
          || !imap_parser_read_number (args, &item->count) || item->count == 0
          || !imap_parser_skip_char (args, '>'))
        return FALSE;
      item->partial = TRUE;
      g_string_append_printf (label, "<%u>", item->origin);
    }
  return TRUE;
}

static FetchItem *
read_fetch_item (ImapParser *args)
{
  g_autofree char *name = read_fetch_name (args);
  if (name == NULL)
    return NULL;
  FetchItem *item = g_new0 (FetchItem, 1);
  item->kind = FETCH_SECTION;
  gboolean ok = TRUE;
  if (strcmp (name, "UID") == 0)
    item->kind = FETCH_UID;
  else if (strcmp (name, "FLAGS") == 0)
    item->kind = FETCH_FLAGS;
  else if (strcmp (name, "INTERNALDATE") == 0)
    item->kind = FETCH_INTERNALDATE;
  else if (strcmp (name, "RFC822.SIZE") == 0)
    item->kind = FETCH_RFC822_SIZE;
  else if (strcmp (name, "ENVELOPE") == 0)
    item->kind = FETCH_ENVELOPE;
  else if (strcmp (name, "BODYSTRUCTURE") == 0)
    item->kind = FETCH_BODYSTRUCTURE;
  else if (strcmp (name, "RFC822") == 0)
    item->sets_seen = TRUE;
  else if (strcmp (name, "RFC822.HEADER") == 0)
    item->section = SECTION_HEADER;
  else if (strcmp (name, "RFC822.TEXT") == 0)
    {
      item->section = SECTION_TEXT;
      item->sets_seen = TRUE;
    }
  else if ((strcmp (name, "BODY") == 0 || strcmp (name, "BODY.PEEK") == 0) && imap_parser_skip_char (args, '['))
    {
      /* RFC 3501 6.4.5: BODY[...] sets \Seen, BODY.PEEK[...] does not;
       * both answer as BODY[...]. */
      g_autoptr(GString) label = g_string_new ("BODY[");
      item->sets_seen = strcmp (name, "BODY") == 0;
      ok = read_section (args, item, label);
      item->label = g_string_free (g_steal_pointer (&label), FALSE);
    }
  else if (strcmp (name, "BODY") == 0)
    item->kind = FETCH_BODY_STRUCTURE;
  else
    ok = FALSE;
  if (!ok)
    {
      fetch_item_free (item);
      return NULL;
    }
  if (item->label == NULL)
    item->label = g_steal_pointer (&name);
  return item;
}

static void
add_items (GPtrArray *items, const char *const *names)
{
  for (; *names != NULL; names++)
    {
      ImapParser parser;
      imap_parser_init (&parser, (const guint8 *) *names, strlen (*names));
      g_ptr_array_add (items, read_fetch_item (&parser));
    }
}

/* fetch-att, a list of them, or the macros ALL, FAST, FULL (RFC 3501 6.4.5). */
static GPtrArray *
read_fetch_items (ImapParser *args)
{
  static const char *const all[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL };
  static const char *const fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL };
  static const char *const full[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", NULL };
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_item_free);
  if (imap_parser_skip_word (args, "ALL"))
    add_items (items, all);
  else if (imap_parser_skip_word (args, "FAST"))
    add_items (items, fast);
  else if (imap_parser_skip_word (args, "FULL"))
    add_items (items, full);
  else if (imap_parser_skip_char (args, '('))
    {
      do
        {
          FetchItem *item = read_fetch_item (args);
          if (item == NULL)
            return NULL;
          g_ptr_array_add (items, item);
        }
      while (imap_parser_skip_space (args));
      if (!imap_parser_skip_char (args, ')'))
        return NULL;
    }
  else
    {
      FetchItem *item = read_fetch_item (args);
      if (item == NULL)
        return NULL;
      g_ptr_array_add (items, item);
    }
  return g_steal_pointer (&items);
}

static void
append_section (GString *out, const FetchItem *item, GBytes *message)
{
  gsize header_len, body_offset;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (message, &size);
  g_autoptr(GBytes) selected = NULL;

  imap_message_split (message, &header_len, &body_offset);
  switch (item->section)
    {
    case SECTION_ALL:
      selected = g_bytes_ref (message);
      break;
    case SECTION_HEADER:
      selected = g_bytes_new (data, header_len);
      break;
    case SECTION_HEADER_FIELDS:
    case SECTION_HEADER_FIELDS_NOT:
      selected = imap_message_header_fields (message, (const char *const *) item->fields,
                                             item->section == SECTION_HEADER_FIELDS_NOT);
      break;
    case SECTION_TEXT:
    case SECTION_PART_ONE:
      selected = g_bytes_new (data + body_offset, size - body_offset);
      break;
    }
  gsize selected_size = 0;
  const guint8 *selected_data = g_bytes_get_data (selected, &selected_size);
  if (item->partial)
    {
      /* RFC 3501 6.4.5: a partial fetch past the end is an empty string. */
      gsize origin = MIN ((gsize) item->origin, selected_size);
      gsize count = MIN ((gsize) item->count, selected_size - origin);
      imap_append_literal (out, selected_data + origin, count);
      return;
    }
  imap_append_literal (out, selected_data, selected_size);
}

static void
send_fetch_response (ImapServer *self, ImapRequest *request, guint index, GPtrArray *items,
                     const MailStoreMessage *message, gboolean flags_changed)
{
  ImapViewEntry *entry = view_entry (self, index);
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean wrote_uid = FALSE, wrote_flags = FALSE;
  g_string_append_printf (out, "* %u FETCH (", index + 1);
  for (guint i = 0; i < items->len; i++)
    {
      const FetchItem *item = g_ptr_array_index (items, i);
      if (i > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s ", item->label);
      switch (item->kind)
        {
        case FETCH_UID:
          g_string_append_printf (out, "%u", entry->uid);
          wrote_uid = TRUE;
          break;
        case FETCH_FLAGS:
          append_flags (out, entry->flags, entry->recent);
          wrote_flags = TRUE;
          break;
        case FETCH_INTERNALDATE:
          append_internal_date (out, message->internal_date);
          break;
        case FETCH_RFC822_SIZE:
          g_string_append_printf (out, "%" G_GSIZE_FORMAT, g_bytes_get_size (message->data));
          break;
        case FETCH_ENVELOPE:
          imap_message_append_envelope (out, message->data);
          break;
        case FETCH_BODY_STRUCTURE:
        case FETCH_BODYSTRUCTURE:
          imap_message_append_body_structure (out, message->data, item->kind == FETCH_BODYSTRUCTURE);
          break;
        case FETCH_SECTION:
          append_section (out, item, message->data);
          break;
        }
    }
  /* RFC 3501 6.4.8: UID FETCH always answers with the UID; RFC 3501
   * 6.4.5: a fetch that sets \Seen reports the new flags. */
  if (request->uid && !wrote_uid)
    g_string_append_printf (out, "%sUID %u", items->len > 0 ? " " : "", entry->uid);
  if (flags_changed && !wrote_flags)
    {
      g_string_append (out, " FLAGS ");
      append_flags (out, entry->flags, entry->recent);
    }
  g_string_append (out, ")\r\n");
  send_text (self, out, "imap.data.fetch");
}

static void
handle_fetch (ImapServer *self, ImapRequest *request)
{
  g_autoptr(GArray) ranges = read_set (self, request);
  if (ranges == NULL)
    return;
  g_autoptr(GPtrArray) items = NULL;
  if (!expect_space (self, request, "SP fetch items"))
    return;
  items = read_fetch_items (&request->args);
  if (items == NULL)
    {
      reply_syntax_error (self, request, "fetch items such as (FLAGS BODY.PEEK[HEADER])");
      return;
    }
  if (!expect_end (self, request))
    return;
  gboolean sets_seen = FALSE, wants_flags = FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      const FetchItem *item = g_ptr_array_index (items, i);
      sets_seen |= item->sets_seen;
      wants_flags |= item->kind == FETCH_FLAGS;
    }
  for (guint i = 0; i < self->view->len; i++)
    {
      if (!set_matches (self, request, ranges, i))
        continue;
      ImapViewEntry *entry = view_entry (self, i);
      const MailStoreMessage *message = mail_store_get_message (self->store, self->user, self->mailbox, entry->uid);
      /* Expunged by another session and not yet reported: skip it. */
      if (message == NULL)
        continue;
      gboolean flags_changed = FALSE;
      if (sets_seen && !self->read_only && !(message->flags & MAIL_FLAG_SEEN))
        {
          mail_store_set_flags (self->store, self->user, self->mailbox, entry->uid,
                                message->flags | MAIL_FLAG_SEEN, NULL);
          flags_changed = TRUE;
        }
      /* Flags another session changed are reported here only if asked
       * for; otherwise sync_view() reports them after the command. */
      if (flags_changed || wants_flags)
        entry->flags = message->flags;
      send_fetch_response (self, request, i, items, message, flags_changed);
    }
  complete_ok (self, request, FALSE, "imap.ok", request->uid ? "UID FETCH completed" : "FETCH completed");
}

/* ---- STORE ---- */

static void
handle_store (ImapServer *self, ImapRequest *request)
{
  g_autoptr(GArray) ranges = read_set (self, request);
  g_autofree char *item = NULL;
  if (ranges == NULL)
    return;
  if (!expect_space (self, request, "SP [+|-]FLAGS[.SILENT]"))
    return;
  item = imap_parser_read_atom (&request->args);
  const char *name = item;
  char mode = '=';
  if (name != NULL && (name[0] == '+' || name[0] == '-'))
    mode = *name++;
  gboolean silent = name != NULL && g_ascii_strcasecmp (name, "FLAGS.SILENT") == 0;
  if (name == NULL || (!silent && g_ascii_strcasecmp (name, "FLAGS") != 0))
    {
      reply_syntax_error (self, request, "FLAGS, +FLAGS or -FLAGS, optionally .SILENT (RFC 3501 6.4.6)");
      return;
    }
  guint flags;
  char next;
  if (!expect_space (self, request, "SP flags"))
    return;
  gboolean parenthesised = imap_parser_peek (&request->args, &next) && next == '(';
  if (!read_flags (&request->args, parenthesised, &flags))
    {
      reply_syntax_error (self, request, "flags such as (\\Seen \\Deleted); \\Recent cannot be stored");
      return;
    }
  if (!expect_end (self, request))
    return;
  if (self->read_only)
    {
      complete_no (self, request, "imap.no.read-only", "[READ-ONLY] The mailbox was opened with EXAMINE");
      return;
    }
  for (guint i = 0; i < self->view->len; i++)
    {
      if (!set_matches (self, request, ranges, i))
        continue;
      ImapViewEntry *entry = view_entry (self, i);
      const MailStoreMessage *message = mail_store_get_message (self->store, self->user, self->mailbox, entry->uid);
      if (message == NULL)
        continue;
      guint updated = mode == '+' ? message->flags | flags : mode == '-' ? message->flags & ~flags : flags;
      mail_store_set_flags (self->store, self->user, self->mailbox, entry->uid, updated, NULL);
      entry->flags = updated;
      /* RFC 3501 6.4.6: the new flags come back as FETCH unless .SILENT. */
      if (!silent)
        send_flags_update (self, i, request->uid);
    }
  complete_ok (self, request, FALSE, "imap.ok", request->uid ? "UID STORE completed" : "STORE completed");
}

/* ---- COPY ---- */

static void
handle_copy (ImapServer *self, ImapRequest *request)
{
  g_autoptr(GArray) ranges = read_set (self, request);
  g_autofree char *mailbox = NULL;
  g_autoptr(GError) error = NULL;
  if (ranges == NULL)
    return;
  if (!expect_space (self, request, "SP mailbox") || (mailbox = read_mailbox_argument (self, request)) == NULL
      || !expect_end (self, request))
    return;
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < self->view->len; i++)
    if (set_matches (self, request, ranges, i)
        && mail_store_get_message (self->store, self->user, self->mailbox, view_entry (self, i)->uid) != NULL)
      g_array_append_val (uids, view_entry (self, i)->uid);
  if (!mail_store_copy (self->store, self->user, self->mailbox, (const guint32 *) uids->data,
                        uids->len, mailbox, NULL, &error))
    {
      complete_store_error (self, request, error, TRUE);
      return;
    }
  complete_ok (self, request, FALSE, "imap.ok", request->uid ? "UID COPY completed" : "COPY completed");
}

/* ---- SEARCH (RFC 3501 6.4.4) ---- */

typedef enum
{
  SEARCH_ALL,
  SEARCH_FLAG_SET,
  SEARCH_FLAG_UNSET,
  SEARCH_RECENT,
  SEARCH_OLD,
  SEARCH_NEW,
  SEARCH_HEADER,
  SEARCH_BODY,
  SEARCH_TEXT,
  SEARCH_LARGER,
  SEARCH_SMALLER,
  SEARCH_BEFORE,
  SEARCH_ON,
  SEARCH_SINCE,
  SEARCH_SEQUENCE,
  SEARCH_UID,
  SEARCH_NOT,
  SEARCH_OR,
  SEARCH_AND,
} SearchKind;

typedef struct _SearchKey SearchKey;
struct _SearchKey
{
  SearchKind kind;
  guint flag;
  char *field;
  char *value;
  guint32 number;
  GArray *set;
  GPtrArray *children;   /* of SearchKey* */
};

static void
search_key_free (SearchKey *key)
{
  g_free (key->field);
  g_free (key->value);
  if (key->set != NULL)
    g_array_unref (key->set);
  if (key->children != NULL)
    g_ptr_array_unref (key->children);
  g_free (key);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SearchKey, search_key_free)

/* Nesting deeper than this is refused, so NOT NOT NOT ... cannot exhaust the stack. */
#define IMAP_MAX_SEARCH_DEPTH 32

static SearchKey *read_search_key (ImapParser *args, guint depth);

static SearchKey *
search_key_new (SearchKind kind)
{
  SearchKey *key = g_new0 (SearchKey, 1);
  key->kind = kind;
  return key;
}

static SearchKey *
read_search_keys (ImapParser *args, guint depth, gboolean parenthesised)
{
  g_autoptr(SearchKey) all = search_key_new (SEARCH_AND);
  all->children = g_ptr_array_new_with_free_func ((GDestroyNotify) search_key_free);
  do
    {
      SearchKey *key = read_search_key (args, depth + 1);
      if (key == NULL)
        return NULL;
      g_ptr_array_add (all->children, key);
    }
  while (imap_parser_skip_space (args));
  if (parenthesised && !imap_parser_skip_char (args, ')'))
    return NULL;
  return g_steal_pointer (&all);
}

static SearchKey *
read_search_key (ImapParser *args, guint depth)
{
  static const struct { const char *name; SearchKind kind; guint flag; } simple[] = {
    { "ALL", SEARCH_ALL, 0 },
    { "ANSWERED", SEARCH_FLAG_SET, MAIL_FLAG_ANSWERED },
    { "DELETED", SEARCH_FLAG_SET, MAIL_FLAG_DELETED },
    { "DRAFT", SEARCH_FLAG_SET, MAIL_FLAG_DRAFT },
    { "FLAGGED", SEARCH_FLAG_SET, MAIL_FLAG_FLAGGED },
    { "SEEN", SEARCH_FLAG_SET, MAIL_FLAG_SEEN },
    { "UNANSWERED", SEARCH_FLAG_UNSET, MAIL_FLAG_ANSWERED },
    { "UNDELETED", SEARCH_FLAG_UNSET, MAIL_FLAG_DELETED },
    { "UNDRAFT", SEARCH_FLAG_UNSET, MAIL_FLAG_DRAFT },
    { "UNFLAGGED", SEARCH_FLAG_UNSET, MAIL_FLAG_FLAGGED },
    { "UNSEEN", SEARCH_FLAG_UNSET, MAIL_FLAG_SEEN },
    { "RECENT", SEARCH_RECENT, 0 },
    { "OLD", SEARCH_OLD, 0 },
    { "NEW", SEARCH_NEW, 0 },
  };
  static const struct { const char *name; const char *field; } header_keys[] = {
    { "FROM", "From" }, { "TO", "To" }, { "CC", "Cc" }, { "BCC", "Bcc" }, { "SUBJECT", "Subject" },
  };
  if (depth > IMAP_MAX_SEARCH_DEPTH)
    return NULL;
  if (imap_parser_skip_char (args, '('))
    return read_search_keys (args, depth, TRUE);
  char next;
  if (imap_parser_peek (args, &next) && (g_ascii_isdigit (next) || next == '*'))
    {
      g_autofree char *text = imap_parser_read_sequence_set (args);
      GArray *set = text != NULL ? imap_sequence_set_parse (text) : NULL;
      if (set == NULL)
        return NULL;
      SearchKey *key = search_key_new (SEARCH_SEQUENCE);
      key->set = set;
      return key;
    }
  g_autofree char *word = imap_parser_read_atom (args);
  if (word == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (simple); i++)
    if (g_ascii_strcasecmp (word, simple[i].name) == 0)
      {
        SearchKey *key = search_key_new (simple[i].kind);
        key->flag = simple[i].flag;
        return key;
      }
  if (!imap_parser_skip_space (args))
    return NULL;
  g_autoptr(SearchKey) key = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (header_keys); i++)
    if (g_ascii_strcasecmp (word, header_keys[i].name) == 0)
      {
        key = search_key_new (SEARCH_HEADER);
        key->field = g_strdup (header_keys[i].field);
        key->value = imap_parser_read_astring (args);
        return key->value != NULL ? g_steal_pointer (&key) : NULL;
      }
  if (g_ascii_strcasecmp (word, "HEADER") == 0)
    {
      key = search_key_new (SEARCH_HEADER);
      if ((key->field = imap_parser_read_astring (args)) == NULL || !imap_parser_skip_space (args)
          || (key->value = imap_parser_read_astring (args)) == NULL)
        return NULL;
    }
  else if (g_ascii_strcasecmp (word, "BODY") == 0 || g_ascii_strcasecmp (word, "TEXT") == 0)
    {
      key = search_key_new (g_ascii_strcasecmp (word, "BODY") == 0 ? SEARCH_BODY : SEARCH_TEXT);
      if ((key->value = imap_parser_read_astring (args)) == NULL)
        return NULL;
    }
  else if (g_ascii_strcasecmp (word, "LARGER") == 0 || g_ascii_strcasecmp (word, "SMALLER") == 0)
    {
      key = search_key_new (g_ascii_strcasecmp (word, "LARGER") == 0 ? SEARCH_LARGER : SEARCH_SMALLER);
      if (!imap_parser_read_number (args, &key->number))
        return NULL;
    }
  else if (g_ascii_strcasecmp (word, "BEFORE") == 0 || g_ascii_strcasecmp (word, "ON") == 0
           || g_ascii_strcasecmp (word, "SINCE") == 0)
    {
      key = search_key_new (g_ascii_strcasecmp (word, "BEFORE") == 0 ? SEARCH_BEFORE
                            : g_ascii_strcasecmp (word, "ON") == 0 ? SEARCH_ON : SEARCH_SINCE);
      g_autofree char *date = imap_parser_read_astring (args);
      if (date == NULL || !parse_search_date (date, &key->number))
        return NULL;
    }
  else if (g_ascii_strcasecmp (word, "UID") == 0)
    {
      key = search_key_new (SEARCH_UID);
      g_autofree char *text = imap_parser_read_sequence_set (args);
      if (text == NULL || (key->set = imap_sequence_set_parse (text)) == NULL)
        return NULL;
    }
  else if (g_ascii_strcasecmp (word, "NOT") == 0)
    {
      key = search_key_new (SEARCH_NOT);
      key->children = g_ptr_array_new_with_free_func ((GDestroyNotify) search_key_free);
      SearchKey *child = read_search_key (args, depth + 1);
      if (child == NULL)
        return NULL;
      g_ptr_array_add (key->children, child);
    }
  else if (g_ascii_strcasecmp (word, "OR") == 0)
    {
      key = search_key_new (SEARCH_OR);
      key->children = g_ptr_array_new_with_free_func ((GDestroyNotify) search_key_free);
      SearchKey *left = read_search_key (args, depth + 1);
      if (left == NULL)
        return NULL;
      g_ptr_array_add (key->children, left);
      SearchKey *right = imap_parser_skip_space (args) ? read_search_key (args, depth + 1) : NULL;
      if (right == NULL)
        return NULL;
      g_ptr_array_add (key->children, right);
    }
  return g_steal_pointer (&key);
}

static gboolean
search_matches (ImapServer *self, const SearchKey *key, guint index, const MailStoreMessage *message)
{
  const ImapViewEntry *entry = view_entry (self, index);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (message->data, &size);
  switch (key->kind)
    {
    case SEARCH_ALL:
      return TRUE;
    case SEARCH_FLAG_SET:
      return (message->flags & key->flag) != 0;
    case SEARCH_FLAG_UNSET:
      return (message->flags & key->flag) == 0;
    case SEARCH_RECENT:
      return entry->recent;
    case SEARCH_OLD:
      return !entry->recent;
    case SEARCH_NEW:
      return entry->recent && !(message->flags & MAIL_FLAG_SEEN);
    case SEARCH_HEADER:
      {
        g_autofree char *value = imap_message_get_header (message->data, key->field);
        return value != NULL && imap_message_contains ((const guint8 *) value, strlen (value), key->value);
      }
    case SEARCH_BODY:
    case SEARCH_TEXT:
      {
        gsize header_len, body_offset;
        imap_message_split (message->data, &header_len, &body_offset);
        if (key->kind == SEARCH_BODY)
          return imap_message_contains (data + body_offset, size - body_offset, key->value);
        return imap_message_contains (data, size, key->value);
      }
    case SEARCH_LARGER:
      return size > key->number;
    case SEARCH_SMALLER:
      return size < key->number;
    case SEARCH_BEFORE:
      return julian_day_of (message->internal_date) < key->number;
    case SEARCH_ON:
      return julian_day_of (message->internal_date) == key->number;
    case SEARCH_SINCE:
      return julian_day_of (message->internal_date) >= key->number;
    case SEARCH_SEQUENCE:
      return imap_sequence_set_contains (key->set, index + 1, self->view->len);
    case SEARCH_UID:
      return imap_sequence_set_contains (key->set, entry->uid, view_last_uid (self));
    case SEARCH_NOT:
      return !search_matches (self, g_ptr_array_index (key->children, 0), index, message);
    case SEARCH_OR:
      return search_matches (self, g_ptr_array_index (key->children, 0), index, message)
             || search_matches (self, g_ptr_array_index (key->children, 1), index, message);
    case SEARCH_AND:
      for (guint i = 0; i < key->children->len; i++)
        if (!search_matches (self, g_ptr_array_index (key->children, i), index, message))
          return FALSE;
      return TRUE;
    }
  return FALSE;
}

static void
handle_search (ImapServer *self, ImapRequest *request)
{
  if (!expect_space (self, request, "SP search keys"))
    return;
  if (imap_parser_skip_word (&request->args, "CHARSET"))
    {
      g_autofree char *charset = NULL;
      if (!imap_parser_skip_space (&request->args)
          || (charset = imap_parser_read_astring (&request->args)) == NULL
          || !imap_parser_skip_space (&request->args))
        {
          reply_syntax_error (self, request, "CHARSET name SP search keys");
          return;
        }
      /* RFC 3501 6.4.4: US-ASCII must be supported; UTF-8 compares the same way here. */
      if (g_ascii_strcasecmp (charset, "US-ASCII") != 0 && g_ascii_strcasecmp (charset, "UTF-8") != 0)
        {
          complete_no (self, request, "imap.no", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
          return;
        }
    }
  g_autoptr(SearchKey) key = read_search_keys (&request->args, 0, FALSE);
  if (key == NULL)
    {
      reply_syntax_error (self, request, "search keys such as UNSEEN FROM \"alice\" (RFC 3501 6.4.4)");
      return;
    }
  if (!expect_end (self, request))
    return;
  g_autoptr(GString) line = g_string_new ("* SEARCH");
  for (guint i = 0; i < self->view->len; i++)
    {
      const MailStoreMessage *message = mail_store_get_message (self->store, self->user, self->mailbox,
                                                                view_entry (self, i)->uid);
      if (message != NULL && search_matches (self, key, i, message))
        g_string_append_printf (line, " %u", request->uid ? view_entry (self, i)->uid : i + 1);
    }
  g_string_append (line, "\r\n");
  send_text (self, line, "imap.data.search");
  complete_ok (self, request, FALSE, "imap.ok", request->uid ? "UID SEARCH completed" : "SEARCH completed");
}

/* ---- the command table ---- */

static const ImapCommand commands[] = {
  { "CAPABILITY", ANY_STATE, FALSE, FALSE, handle_capability, NULL },
  { "NOOP", ANY_STATE, FALSE, TRUE, handle_noop, NULL },
  { "LOGOUT", ANY_STATE, FALSE, FALSE, handle_logout, NULL },
  { "LOGIN", NOT_AUTHENTICATED, FALSE, FALSE, handle_login, "already authenticated" },
  { "AUTHENTICATE", NOT_AUTHENTICATED, FALSE, FALSE, handle_authenticate, "already authenticated" },
  { "SELECT", AUTHENTICATED, FALSE, FALSE, handle_select, "log in first" },
  { "EXAMINE", AUTHENTICATED, FALSE, FALSE, handle_examine, "log in first" },
  { "CREATE", AUTHENTICATED, FALSE, FALSE, handle_create, "log in first" },
  { "DELETE", AUTHENTICATED, FALSE, FALSE, handle_delete, "log in first" },
  { "RENAME", AUTHENTICATED, FALSE, FALSE, handle_rename, "log in first" },
  { "SUBSCRIBE", AUTHENTICATED, FALSE, FALSE, handle_subscribe, "log in first" },
  { "UNSUBSCRIBE", AUTHENTICATED, FALSE, FALSE, handle_unsubscribe, "log in first" },
  { "LIST", AUTHENTICATED, FALSE, FALSE, handle_list, "log in first" },
  { "LSUB", AUTHENTICATED, FALSE, FALSE, handle_lsub, "log in first" },
  { "STATUS", AUTHENTICATED, FALSE, FALSE, handle_status, "log in first" },
  { "APPEND", AUTHENTICATED, FALSE, FALSE, handle_append, "log in first" },
  { "IDLE", AUTHENTICATED, FALSE, TRUE, handle_idle, "log in first" },
  { "CHECK", SELECTED, FALSE, TRUE, handle_check, "select a mailbox first" },
  { "CLOSE", SELECTED, FALSE, FALSE, handle_close, "select a mailbox first" },
  { "EXPUNGE", SELECTED, FALSE, TRUE, handle_expunge, "select a mailbox first" },
  { "SEARCH", SELECTED, TRUE, FALSE, handle_search, "select a mailbox first" },
  { "FETCH", SELECTED, TRUE, FALSE, handle_fetch, "select a mailbox first" },
  { "STORE", SELECTED, TRUE, FALSE, handle_store, "select a mailbox first" },
  { "COPY", SELECTED, TRUE, FALSE, handle_copy, "select a mailbox first" },
};

static const ImapCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_ascii_strcasecmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static void
execute_command (ImapServer *self, const guint8 *data, gsize len)
{
  ImapRequest request = { 0 };
  imap_parser_init (&request.args, data, len);
  g_autofree char *tag = imap_parser_read_tag (&request.args);
  if (tag == NULL || !imap_parser_skip_space (&request.args))
    {
      /* RFC 3501 7.1.3: without a tag the BAD is untagged. */
      send_untagged (self, "imap.bad.syntax", "BAD Every command starts with a tag, a space and a command name (RFC 3501 2.2.1)");
      return;
    }
  request.tag = tag;
  g_autofree char *name = imap_parser_read_atom (&request.args);
  if (name == NULL)
    {
      send_tagged (self, tag, "BAD", "imap.bad.syntax", "Missing command name after the tag");
      return;
    }
  if (g_ascii_strcasecmp (name, "UID") == 0)
    {
      g_free (name);
      name = imap_parser_skip_space (&request.args) ? imap_parser_read_atom (&request.args) : NULL;
      const ImapCommand *command = name != NULL ? find_command (name) : NULL;
      if (command == NULL || !command->has_uid_form)
        {
          send_tagged (self, tag, "BAD", "imap.bad.syntax", "UID goes with FETCH, STORE, COPY or SEARCH (RFC 3501 6.4.8)");
          return;
        }
      request.uid = TRUE;
    }
  const ImapCommand *command = find_command (name);
  if (command == NULL)
    {
      send_tagged (self, tag, "BAD", "imap.bad.unknown", "Unknown command %s", name);
      return;
    }
  g_autofree char *upper = g_ascii_strup (name, -1);
  request.name = upper;
  if (!(command->states & (1u << self->state)))
    {
      send_tagged (self, tag, "BAD", "imap.bad.state", "%s is not valid now: %s (RFC 3501 3)",
                   upper, command->state_hint);
      return;
    }
  command->handle (self, &request);
}

/* ---- input ---- */

static void
reset_command (ImapServer *self)
{
  g_byte_array_set_size (self->command, 0);
  self->literal_remaining = 0;
}

/* The tag of the command being assembled, when it has one, for a BAD
 * about a line or literal that was too long. */
static char *
command_tag (const guint8 *data, gsize len)
{
  ImapParser parser;
  imap_parser_init (&parser, data, len);
  char *tag = imap_parser_read_tag (&parser);
  if (tag != NULL && !imap_parser_skip_space (&parser))
    g_clear_pointer (&tag, g_free);
  return tag;
}

/* Answers an overlong line: for IDLE or AUTHENTICATE in progress, with
 * their tag, which ends them; otherwise with the tag the line starts with. */
static void
reply_too_long (ImapServer *self, const guint8 *line, gsize len)
{
  g_autofree char *tag = NULL;
  if (self->input == INPUT_IDLE || self->input == INPUT_AUTHENTICATE)
    {
      tag = g_steal_pointer (&self->waiting_tag);
      self->input = INPUT_COMMAND;
    }
  else if (self->command->len > 0)
    tag = command_tag (self->command->data, self->command->len);
  else
    tag = command_tag (line, len);
  send_tagged (self, tag, "BAD", "imap.bad.line-too-long",
               "Command line too long: the limit is %u octets", IMAP_MAX_LINE);
  reset_command (self);
}

/* A line that ends with {n} announces a literal of n octets (RFC 3501 4.3). */
static gboolean
line_announces_literal (const guint8 *line, gsize len, guint32 *size)
{
  if (len < 3 || line[len - 1] != '}')
    return FALSE;
  gsize open = len - 1;
  while (open > 0 && g_ascii_isdigit (line[open - 1]))
    open--;
  if (open == 0 || open == len - 1 || line[open - 1] != '{')
    return FALSE;
  ImapParser parser;
  imap_parser_init (&parser, line + open, len - 1 - open);
  return imap_parser_read_number (&parser, size);
}

static void
handle_command_line (ImapServer *self, const guint8 *line, gsize len)
{
  guint32 literal_size;
  if (self->command->len + len > IMAP_MAX_COMMAND)
    {
      reply_too_long (self, line, len);
      return;
    }
  g_byte_array_append (self->command, line, (guint) len);
  if (!line_announces_literal (line, len, &literal_size))
    {
      g_autoptr(GByteArray) command = g_byte_array_new ();
      g_byte_array_append (command, self->command->data, self->command->len);
      reset_command (self);
      execute_command (self, command->data, command->len);
      return;
    }
  if (literal_size > IMAP_MAX_LITERAL || self->command->len + literal_size > IMAP_MAX_COMMAND)
    {
      /* RFC 3501 7.5: refusing a literal with BAD instead of "+" tells
       * the client not to send it. */
      g_autofree char *tag = command_tag (self->command->data, self->command->len);
      send_tagged (self, tag, "BAD", "imap.bad.literal-too-large",
                   "Literal of %u octets refused: the limit is %u octets", literal_size, IMAP_MAX_LITERAL);
      reset_command (self);
      return;
    }
  g_byte_array_append (self->command, (const guint8 *) "\r\n", 2);
  self->literal_remaining = literal_size;
  self->input = INPUT_LITERAL;
  sim_transport_write_string (self->transport, "+ Ready for literal data\r\n", "imap.continue.literal");
  if (literal_size == 0)
    self->input = INPUT_COMMAND;
}

static void
handle_line (ImapServer *self, const guint8 *line, gsize len)
{
  switch (self->input)
    {
    case INPUT_COMMAND:
      handle_command_line (self, line, len);
      break;
    case INPUT_IDLE:
    case INPUT_AUTHENTICATE:
      {
        /* A NUL inside the line makes it shorter and so invalid, never longer. */
        g_autofree char *text = g_strndup ((const char *) line, len);
        if (self->input == INPUT_IDLE)
          handle_idle_line (self, text);
        else
          handle_authenticate_line (self, text);
      }
      break;
    case INPUT_LITERAL:
    case INPUT_DISCARD_LINE:
      g_assert_not_reached ();
    }
}

static void
consume (ImapServer *self, gsize len)
{
  g_byte_array_remove_range (self->received, 0, (guint) len);
}

/* Handles as much of the received bytes as form whole lines or literals. */
static void
process_input (ImapServer *self)
{
  while (self->state != IMAP_STATE_LOGOUT && self->received->len > 0)
    {
      const guint8 *data = self->received->data;
      gsize available = self->received->len;
      if (self->input == INPUT_LITERAL)
        {
          gsize take = MIN (available, self->literal_remaining);
          g_byte_array_append (self->command, data, (guint) take);
          consume (self, take);
          self->literal_remaining -= take;
          if (self->literal_remaining == 0)
            self->input = INPUT_COMMAND;
          continue;
        }
      const guint8 *newline = memchr (data, '\n', available);
      if (self->input == INPUT_DISCARD_LINE)
        {
          if (newline == NULL)
            {
              consume (self, available);
              return;
            }
          consume (self, (gsize) (newline - data) + 1);
          self->input = INPUT_COMMAND;
          continue;
        }
      if (newline == NULL)
        {
          if (available > IMAP_MAX_LINE)
            {
              reply_too_long (self, data, available);
              self->input = INPUT_DISCARD_LINE;
              consume (self, available);
            }
          return;
        }
      gsize line_len = (gsize) (newline - data);
      gsize consumed = line_len + 1;
      /* CRLF ends a line (RFC 3501 2.2); a bare LF is accepted too. */
      if (line_len > 0 && data[line_len - 1] == '\r')
        line_len--;
      if (line_len > IMAP_MAX_LINE)
        {
          reply_too_long (self, data, line_len);
          consume (self, consumed);
          continue;
        }
      g_autofree guint8 *line = g_memdup2 (data, line_len + 1);
      consume (self, consumed);
      handle_line (self, line, line_len);
    }
}

/* ---- public ---- */

ImapServer *
imap_server_new (MailStore *store, const char *hostname, SimTransport *transport)
{
  ImapServer *self = g_new0 (ImapServer, 1);
  self->store = store;
  self->hostname = g_strdup (hostname);
  self->transport = transport;
  self->state = IMAP_STATE_NOT_AUTHENTICATED;
  self->input = INPUT_COMMAND;
  self->received = g_byte_array_new ();
  self->command = g_byte_array_new ();
  self->view = g_array_new (FALSE, FALSE, sizeof (ImapViewEntry));
  return self;
}

void
imap_server_free (ImapServer *self)
{
  if (self == NULL)
    return;
  deselect (self);
  g_free (self->hostname);
  g_free (self->user);
  g_free (self->waiting_tag);
  g_byte_array_unref (self->received);
  g_byte_array_unref (self->command);
  g_array_unref (self->view);
  g_free (self);
}

void
imap_server_start (ImapServer *self)
{
  /* RFC 3501 7.1.1: the greeting may carry the capabilities (7.2.1). */
  send_untagged (self, "imap.greeting", "OK [CAPABILITY %s] %s IMAP4rev1 ready",
                 IMAP_SERVER_CAPABILITIES, self->hostname);
}

void
imap_server_feed (ImapServer *self, const guint8 *data, gsize len)
{
  if (self->state == IMAP_STATE_LOGOUT)
    return;
  g_byte_array_append (self->received, data, (guint) len);
  process_input (self);
}

void
imap_server_set_now (ImapServer *self, SimTime now)
{
  self->now = now;
}

void
imap_server_connection_lost (ImapServer *self)
{
  deselect (self);
  self->state = IMAP_STATE_LOGOUT;
}

void
imap_server_idle_timeout (ImapServer *self)
{
  if (self->state == IMAP_STATE_LOGOUT)
    return;
  send_untagged (self, "imap.bye.autologout", "BYE Autologout; idle for too long");
  deselect (self);
  self->state = IMAP_STATE_LOGOUT;
  sim_transport_close (self->transport);
}

gboolean
imap_server_is_finished (ImapServer *self)
{
  return self->state == IMAP_STATE_LOGOUT;
}

ImapState
imap_server_get_state (ImapServer *self)
{
  return self->state;
}

const char *
imap_server_get_user (ImapServer *self)
{
  return self->user;
}

const char *
imap_server_get_mailbox (ImapServer *self)
{
  return self->mailbox;
}
