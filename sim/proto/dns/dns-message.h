/* dns-message.h: DNS messages as RFC 1035 section 4 defines them.
 *
 * Pure code, no networking: build a message, encode it to wire bytes (with
 * name compression and truncation), decode untrusted bytes back (every
 * length checked before it is read), and describe messages in words for the
 * narration and the GUI inspector.
 *
 * Names are kept in presentation form ("mx.example.org.", "." for the root):
 * always absolute with a trailing dot, case kept as written and compared
 * case-insensitively (RFC 1035 2.3.3, RFC 4343).  Octets that cannot appear
 * bare in presentation form are escaped as "\." , "\\" or "\DDD"
 * (RFC 1035 5.1).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DNS_ERROR (dns_error_quark ())
GQuark dns_error_quark (void);

typedef enum
{
  DNS_ERROR_MALFORMED,        /* bytes that break a rule of RFC 1035 */
  DNS_ERROR_TRUNCATED_INPUT,  /* the bytes end before the structure does */
  DNS_ERROR_NAME,             /* a name breaks a length or label rule */
  DNS_ERROR_UNSUPPORTED,      /* valid, but outside what mailsim simulates */
  DNS_ERROR_ZONE_SYNTAX,      /* a zone-file line (dns-zone.h) does not parse */
} DnsError;

typedef enum
{
  DNS_TYPE_A = 1,
  DNS_TYPE_NS = 2,
  DNS_TYPE_CNAME = 5,
  DNS_TYPE_SOA = 6,
  DNS_TYPE_PTR = 12,
  DNS_TYPE_MX = 15,
  DNS_TYPE_TXT = 16,
  DNS_TYPE_AAAA = 28,
  DNS_TYPE_OPT = 41,
  DNS_TYPE_ANY = 255,
} DnsType;

#define DNS_CLASS_IN 1

typedef enum
{
  DNS_RCODE_NOERROR = 0,
  DNS_RCODE_FORMERR = 1,
  DNS_RCODE_SERVFAIL = 2,
  DNS_RCODE_NXDOMAIN = 3,
  DNS_RCODE_NOTIMP = 4,
  DNS_RCODE_REFUSED = 5,
  /* RFC 6891 6.1.3: an extended code, sent in the OPT record's upper bits. */
  DNS_RCODE_BADVERS = 16,
} DnsRcode;

#define DNS_OPCODE_QUERY 0

/* RFC 1035 2.3.4: labels are at most 63 octets, names at most 255 octets
 * in wire form, and a UDP message without EDNS at most 512 octets. */
#define DNS_MAX_LABEL 63
#define DNS_MAX_NAME 255
#define DNS_UDP_MAX_PLAIN 512
/* RFC 1035 4.1.1: the fixed header is 12 octets. */
#define DNS_HEADER_SIZE 12
/* RFC 1035 4.2.2: a TCP message carries a 16-bit length, so at most 65535. */
#define DNS_MAX_MESSAGE 65535
/* RFC 1035 3.3: a <character-string> is a length octet and at most 255 octets. */
#define DNS_MAX_CHARACTER_STRING 255
/* The UDP payload size mailsim's servers advertise with EDNS: the value the
 * 2020 DNS flag day chose to avoid IP fragmentation (RFC 6891 6.2.5 leaves
 * the choice to the implementation). */
#define DNS_EDNS_UDP_SIZE 1232

typedef struct
{
  char *name;
  guint16 type;
  guint16 klass;
} DnsQuestion;

typedef struct
{
  char *mname;      /* primary name server */
  char *rname;      /* mailbox of the person responsible, '@' written as '.' */
  guint32 serial;
  guint32 refresh;
  guint32 retry;
  guint32 expire;
  guint32 minimum;  /* RFC 2308 4: the TTL of negative answers */
} DnsSoaData;

/* One resource record (RFC 1035 3.2.1).  Only the fields of its type are
 * used; the others stay zero/NULL.  When @raw is set it holds the whole
 * RDATA and wins over the typed fields: that is how types mailsim does not
 * model (and TXT strings containing a NUL octet) travel unchanged. */
typedef struct
{
  char *name;
  guint16 type;
  guint16 klass;
  guint32 ttl;

  guint8 address[16];  /* A: the first 4 octets; AAAA: all 16; network order */
  char *target;        /* NS name server, CNAME canonical name, PTR name, MX exchange */
  guint16 preference;  /* MX: lower is preferred (RFC 5321 5.1) */
  DnsSoaData soa;      /* SOA */
  GPtrArray *strings;  /* TXT: char * character-strings, each at most 255 octets */
  GBytes *raw;         /* RDATA of other types */
} DnsRecord;

typedef struct
{
  guint16 id;
  gboolean qr;   /* response */
  guint8 opcode;
  gboolean aa;   /* authoritative answer */
  gboolean tc;   /* truncated */
  gboolean rd;   /* recursion desired */
  gboolean ra;   /* recursion available */
  gboolean ad;   /* authentic data, RFC 4035 3.2.3 (dig sets it in queries) */
  gboolean cd;   /* checking disabled, RFC 4035 3.2.2 */
  guint8 rcode;  /* with EDNS, the 12-bit extended code when it fits 8 bits */

  GPtrArray *questions;    /* DnsQuestion * */
  GPtrArray *answers;      /* DnsRecord *, the OPT pseudo-record excluded */
  GPtrArray *authorities;  /* DnsRecord * */
  GPtrArray *additionals;  /* DnsRecord * */

  /* EDNS(0), RFC 6891 6.1: carried by the OPT pseudo-record, which the
   * encoder writes last in the additional section. */
  gboolean has_edns;
  guint16 edns_udp_size;
  guint8 edns_version;
  gboolean edns_dnssec_ok;  /* the DO bit, RFC 3225 */
  GBytes *edns_options;     /* the OPT RDATA: {code, length, data} options, or NULL */
} DnsMessage;

/* How a response reads to a resolver, for narration and for the resolver
 * itself (RFC 1034 5.3.3, RFC 2308 2). */
typedef enum
{
  DNS_RESPONSE_QUERY,      /* not a response at all */
  DNS_RESPONSE_ANSWER,     /* NOERROR with records in the answer section */
  DNS_RESPONSE_REFERRAL,   /* NOERROR, no answer, NS and no SOA in authority, not AA */
  DNS_RESPONSE_NODATA,     /* NOERROR, no answer: the name exists, the type does not */
  DNS_RESPONSE_NXDOMAIN,
  DNS_RESPONSE_SERVFAIL,
  DNS_RESPONSE_FORMERR,
  DNS_RESPONSE_NOTIMP,
  DNS_RESPONSE_REFUSED,
  DNS_RESPONSE_TRUNCATED,  /* TC set: retry over TCP (RFC 1035 4.2.1) */
  DNS_RESPONSE_OTHER_ERROR,
} DnsResponseKind;

DnsQuestion *dns_question_new (const char *name, guint16 type);
DnsQuestion *dns_question_copy (const DnsQuestion *question);
void dns_question_free (DnsQuestion *question);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsQuestion, dns_question_free)

/* (transfer full) An empty message: every array allocated, all flags 0. */
DnsMessage *dns_message_new (void);
/* (transfer full) A standard query (opcode QUERY, class IN) for @name,
 * which need not end with a dot.  Returns NULL when @name is not a valid name. */
DnsMessage *dns_message_new_query (guint16 id, const char *name, DnsType type, gboolean recursion_desired);
/* (transfer full) A response to @query: copies the id, opcode, RD and CD
 * flags and the questions, sets QR; carries OPT when the query did
 * (RFC 6891 7).  Rcode NOERROR, sections empty. */
DnsMessage *dns_message_new_response (const DnsMessage *query);
void dns_message_free (DnsMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsMessage, dns_message_free)

/* (transfer full) A record of class IN whose type-specific fields are
 * empty.  @name is normalized (dns_name_normalize); returns NULL with a
 * critical warning when it is not a valid name.  The typed helpers below do
 * the same for their names. */
DnsRecord *dns_record_new (const char *name, DnsType type, guint32 ttl);
DnsRecord *dns_record_new_a (const char *name, guint32 ttl, guint32 address_host_order);
DnsRecord *dns_record_new_aaaa (const char *name, guint32 ttl, const guint8 address[16]);
/* NS, CNAME or PTR: a record whose data is one name. */
DnsRecord *dns_record_new_with_target (const char *name, DnsType type, guint32 ttl, const char *target);
DnsRecord *dns_record_new_mx (const char *name, guint32 ttl, guint16 preference, const char *exchange);
DnsRecord *dns_record_new_soa (const char *name, guint32 ttl, const DnsSoaData *soa);
/* TXT: @text is split into character-strings of at most 255 octets. */
DnsRecord *dns_record_new_txt (const char *name, guint32 ttl, const char *text);
DnsRecord *dns_record_copy (const DnsRecord *record);
void dns_record_free (DnsRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsRecord, dns_record_free)
/* Same owner (case-insensitively), type, class, TTL and data. */
gboolean dns_record_equal (const DnsRecord *a, const DnsRecord *b);
/* The address of an A record in host byte order. */
guint32 dns_record_get_ipv4 (const DnsRecord *record);

/* (transfer full) Encode with name compression (RFC 1035 4.1.4) of owner
 * names, questions and the names inside NS, CNAME, PTR, MX and SOA data
 * (RFC 3597 4 forbids it elsewhere).
 *
 * When the result would exceed @max_size octets (0 means DNS_MAX_MESSAGE),
 * whole RRsets are dropped from the end.  Dropping only additional data
 * leaves TC clear; dropping answer or authority data sets TC (RFC 2181 9,
 * RFC 1035 4.2.1).  The header, questions and OPT record are never dropped
 * (RFC 6891 7), so the result exceeds @max_size only when they alone do.
 *
 * Returns NULL, with a critical warning, only for a programming error: a
 * name or character-string in @message that cannot be encoded. */
GBytes *dns_message_encode (const DnsMessage *message, gsize max_size);

/* (transfer full) Decode untrusted bytes.  Rejects, with a GError saying
 * what and where: compression pointers that loop, point forward, into the
 * header or past the end; labels over 63 octets; names over 255; counts
 * that overrun the message; records whose RDATA length disagrees with their
 * type; more than one OPT record; and trailing octets after the last
 * record (mailsim's policy: a well-formed sender never adds them, and
 * saying so teaches more than ignoring them). */
DnsMessage *dns_message_decode (const guint8 *data, gsize len, GError **error);

/* Read only the 12-octet header, so a server can answer FORMERR with the
 * right id to a query whose body does not decode (RFC 1035 4.1.1).  @id and
 * @flags may be NULL.  FALSE when @len is shorter than the header. */
gboolean dns_message_peek_header (const guint8 *data, gsize len, guint16 *id, guint16 *flags);

/* The largest response the sender of @query accepts over UDP:
 * max(512, its EDNS UDP payload size) (RFC 6891 6.2.5, RFC 1035 4.2.1). */
gsize dns_message_max_udp_response (const DnsMessage *query);

DnsResponseKind dns_message_classify (const DnsMessage *message);
/* The explanation-catalogue key (sim/trace/sim-explain.h) of @message:
 * "dns.query", "dns.response.answer", "dns.response.referral", ... */
const char *dns_message_explain_key (const DnsMessage *message);

/* (transfer full) "example.org. 3600 IN MX 10 mx.example.org."  Zone-file
 * syntax: dns_zone_parse_record() reads it back. */
char *dns_record_to_string (const DnsRecord *record);
/* (transfer full) One line: "query MX? example.org. rd" or
 * "answer NOERROR aa for MX? example.org.: 1 answer, 0 authority, 1 additional". */
char *dns_message_summary (const DnsMessage *message);
/* (transfer full) char * lines: header, EDNS, questions, then each record
 * prefixed by its section ("answer: ..."). */
GPtrArray *dns_message_describe (const DnsMessage *message);

/* "MX"; "TYPE99" (RFC 3597 5) for types without a mnemonic. */
const char *dns_type_to_string (guint16 type);
/* Case-insensitive; accepts "TYPE99" too. */
gboolean dns_type_from_string (const char *text, guint16 *out);
/* "NXDOMAIN"; "RCODE12" for codes without a mnemonic. */
const char *dns_rcode_to_string (guint8 rcode);
const char *dns_opcode_to_string (guint8 opcode);

/* Case-insensitive (RFC 4343), tolerant of a missing trailing dot. */
gboolean dns_name_equal (const char *a, const char *b);
/* TRUE when @name is @zone or lies below it, label by label
 * ("mx.example.org." is below "example.org." but "myexample.org." is not). */
gboolean dns_name_is_subdomain (const char *name, const char *zone);
/* (transfer full) @name checked against RFC 1035 2.3.4 (labels 1 to 63
 * octets, at most 255 in wire form) and made absolute with a trailing dot;
 * escapes rewritten in canonical form; case kept. */
char *dns_name_normalize (const char *name, GError **error);
/* (transfer full) "25.2.0.192.in-addr.arpa." for 192.0.2.25 (RFC 1035 3.5). */
char *dns_name_reverse_ipv4 (guint32 address_host_order);

G_END_DECLS
