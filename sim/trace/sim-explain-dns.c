/* sim-explain-dns.c: what the DNS events of a trace mean, for students.
 *
 * dns_message_explain_key() (sim/proto/dns/dns-message.h) maps every
 * message to one of the "dns.query" and "dns.response.*" keys below.
 */
#include "trace/sim-explain.h"

extern const SimExplanation sim_explain_dns[];
extern const gsize sim_explain_dns_count;

const SimExplanation sim_explain_dns[] = {
  { "dns.query", "RFC 1034 4.3.1, RFC 1035 4.1",
    "A DNS query asks one question, a name and a record type such as MX; a stub resolver sets "
    "\"recursion desired\" so its resolver finds the whole answer, while a resolver asks each "
    "name server in turn without it." },
  { "dns.query.retry-tcp", "RFC 1035 4.2.1 and 4.2.2, RFC 7766 5",
    "The answer did not fit in a UDP datagram (it came back truncated, with the TC flag), so the "
    "asker, a resolver or a stub, asks the same server the same question again over a TCP "
    "connection to port 53: there each message is preceded by its length in two octets and may be "
    "up to 65535 octets long." },
  { "dns.query.formerr-no-edns", "RFC 6891 7",
    "The server did not understand the EDNS record, so the resolver asks again without it, as "
    "plain RFC 1035 DNS." },
  { "dns.response.answer", "RFC 1034 4.3.2",
    "The server answers the question with the records asked for: with the \"aa\" flag it speaks as "
    "the zone's authoritative source; without it (a resolver) the records come from its cache or its own lookups." },
  { "dns.response.cname", "RFC 1034 3.6.2",
    "The name is an alias (CNAME): the answer gives its canonical name, and the lookup continues "
    "with that name." },
  { "dns.response.referral", "RFC 1034 4.3.2",
    "The server does not hold this name but knows who does: it refers the resolver to the name "
    "servers of a subdomain (NS records), with their addresses (glue) when it has them." },
  { "dns.response.nxdomain", "RFC 1035 4.1.1, RFC 2308 2.1",
    "The authoritative server says the name does not exist at all (NXDOMAIN); the SOA record it "
    "includes says how long that may be remembered." },
  { "dns.response.nodata", "RFC 2308 2.2",
    "The name exists but has no record of the type asked for, for example no MX record; the "
    "answer is empty with no error code (NODATA)." },
  { "dns.response.servfail", "RFC 1035 4.1.1",
    "The server failed to produce an answer (SERVFAIL), for example because every name server it "
    "asked was unreachable; the resolver may try another server later." },
  { "dns.response.formerr", "RFC 1035 4.1.1",
    "The server could not understand the query (FORMERR): its bytes do not form a valid DNS "
    "message." },
  { "dns.response.notimp", "RFC 1035 4.1.1",
    "The server does not implement this kind of request (NOTIMP), for example an opcode other "
    "than a standard query." },
  { "dns.response.refused", "RFC 1035 4.1.1",
    "The server refuses to answer (REFUSED): it is not authoritative for the name and does not "
    "offer recursion to this client." },
  { "dns.response.truncated", "RFC 1035 4.2.1, RFC 2181 9",
    "The answer did not fit in the UDP datagram, so the server sent part of it with the TC "
    "(truncated) flag; the resolver must ask again over TCP." },
  { "dns.response.badvers", "RFC 6891 6.1.3",
    "The query used an EDNS version the server does not speak (BADVERS); the server replies with "
    "the version it supports." },
  { "dns.response.error", "RFC 1035 4.1.1",
    "The server answered with an error code this simulation does not explain in detail." },
  { "dns.response.malformed", "RFC 1035 4.1",
    "The reply could not be decoded (a bad length, a compression pointer that loops or points "
    "outside the message), so the resolver ignores it as if it never arrived." },
  { "dns.response.mismatch", "RFC 5452 9.1",
    "The reply's id or question does not match any query waiting for it, so the resolver "
    "ignores it; checking this is what stops simple spoofing." },
  { "dns.cache.hit", "RFC 1034 5.3.3, RFC 2181 8",
    "The resolver already has these records in its cache and their time to live has not run out, "
    "so it answers without asking any server." },
  { "dns.cache.negative", "RFC 2308 5",
    "The resolver remembers that this name or type does not exist, for as long as the SOA minimum "
    "allowed, and answers that at once without asking again." },
  { "dns.cache.expired", "RFC 1035 3.2.1",
    "A cached record's time to live ran out, so the resolver forgets it and must ask again." },
  { "dns.timeout", "RFC 1035 4.2.1, RFC 1536 1",
    "No reply came from the name server in time; UDP does not retransmit by itself, so the "
    "resolver sends the query again or tries the next server." },
  { "dns.mx.select", "RFC 5321 5.1",
    "To deliver mail, the sender looks up the domain's MX records and tries the exchangers in "
    "order of preference, the lowest number first." },
  { "dns.mx.implicit", "RFC 5321 5.1",
    "The domain has no MX record, so mail goes to the domain's own address record (A or AAAA) "
    "as if it were the only exchanger." },
  { "dns.mx.null", "RFC 7505",
    "The domain publishes a null MX (preference 0, exchanger \".\"): it accepts no mail at all, "
    "and the sender bounces the message at once." },
  { "dns.ptr.lookup", "RFC 1035 3.5",
    "A reverse lookup turns an IPv4 address into a name by asking for a PTR record under "
    "in-addr.arpa, with the address written backwards." },
};

const gsize sim_explain_dns_count = G_N_ELEMENTS (sim_explain_dns);
