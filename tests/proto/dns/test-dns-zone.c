/* test-dns-zone.c: zone data, its text form, and authoritative answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/dns/dns-zone.h"

/* The zones one simulated server hosts, as a scenario would write them. */
static const char *const example_org_lines[] = {
  "@ 3600 SOA ns.example.org. hostmaster.example.org. ( 2024060101 7200 900 1209600 300 )",
  "@ NS ns",
  "ns A 192.0.2.53",
  "@ MX 10 mx",
  "@ MX 20 mx2.example.net.",
  "mx 300 A 192.0.2.25",
  "mx AAAA 2001:db8::25",
  "@ TXT \"v=spf1 mx -all\"",
  "alias CNAME www       ; a chain: alias -> www -> web",
  "www CNAME web",
  "web A 192.0.2.80",
  "away CNAME mail.example.net.",
  "sub NS ns1.sub",
  "sub NS ns.example.net.",
  "ns1.sub A 192.0.2.99",
  "_imap._tcp TXT \"an empty non-terminal above me\"",
};

static const char *const example_net_lines[] = {
  "@ SOA ns hostmaster 1 7200 900 1209600 600",
  "@ NS ns",
  "ns A 198.51.100.53",
  "mx2 A 198.51.100.25",
};

static const char *const deep_lines[] = {
  "@ SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 60",
  "@ NS ns.example.org.",
  "host A 192.0.2.200",
};

static DnsZone *
zone_from_lines (const char *origin, const char *const *lines, gsize count)
{
  DnsZone *zone = dns_zone_new (origin);

  for (gsize i = 0; i < count; i++)
    {
      g_autoptr(GError) error = NULL;
      gsize column = 0;
      if (!dns_zone_add_from_text (zone, lines[i], 3600, &column, &error))
        fail_msg ("%s line %zu column %zu: %s", origin, i + 1, column, error->message);
    }
  return zone;
}

static int
setup_zones (void **state)
{
  GPtrArray *zones = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_zone_free);

  g_ptr_array_add (zones, zone_from_lines ("example.org", example_org_lines, G_N_ELEMENTS (example_org_lines)));
  g_ptr_array_add (zones, zone_from_lines ("example.net.", example_net_lines, G_N_ELEMENTS (example_net_lines)));
  g_ptr_array_add (zones, zone_from_lines ("deep.example.org.", deep_lines, G_N_ELEMENTS (deep_lines)));
  *state = zones;
  return 0;
}

static int
teardown_zones (void **state)
{
  g_ptr_array_unref (*state);
  return 0;
}

/* Ask @zones, sending the answer through the wire and back so every
 * answer is also proven encodable. */
static DnsMessage *
ask (GPtrArray *zones, const char *name, DnsType type)
{
  g_autoptr(DnsMessage) query = dns_message_new_query (0x4242, name, type, FALSE);
  g_autoptr(DnsMessage) answer = dns_zones_answer (zones, query);
  g_autoptr(GBytes) bytes = dns_message_encode (answer, DNS_UDP_MAX_PLAIN);
  g_autoptr(GError) error = NULL;
  DnsMessage *decoded = dns_message_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);

  if (decoded == NULL)
    fail_msg ("answer for %s does not decode: %s", name, error->message);
  assert_int_equal (decoded->id, 0x4242);
  assert_true (decoded->qr);
  return decoded;
}

static void
assert_section (const GPtrArray *section, const char *const *expected, gsize count)
{
  if (section->len != count)
    {
      for (guint i = 0; i < section->len; i++)
        {
          g_autofree char *text = dns_record_to_string (g_ptr_array_index (section, i));
          print_message ("  got: %s\n", text);
        }
      fail_msg ("expected %zu records, got %u", count, section->len);
    }
  for (gsize i = 0; i < count; i++)
    {
      g_autofree char *text = dns_record_to_string (g_ptr_array_index (section, i));
      assert_string_equal (text, expected[i]);
    }
}

#define ASSERT_SECTION(section, ...)                                                       \
  do                                                                                       \
    {                                                                                      \
      static const char *const expected_[] = { __VA_ARGS__ };                             \
      assert_section ((section), expected_, G_N_ELEMENTS (expected_));                   \
    }                                                                                      \
  while (0)

static void
test_parse_record_reads_zone_file_forms (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DnsRecord) soa = dns_zone_parse_record (
    "@ 3600 SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 300",
    "example.org", 86400, NULL, &error);
  g_autoptr(DnsRecord) mx = dns_zone_parse_record ("@ MX 10 mx", "example.org.", 86400, NULL, &error);
  g_autoptr(DnsRecord) a = dns_zone_parse_record ("mx 300 A 192.0.2.25", "example.org.", 86400, NULL, &error);
  g_autoptr(DnsRecord) txt = dns_zone_parse_record ("example.org. TXT \"v=spf1 -all\"", "example.org.", 86400, NULL, &error);
  g_autoptr(DnsRecord) ns = dns_zone_parse_record ("org. NS a0.org-servers.net.", ".", 172800, NULL, &error);
  g_autoptr(DnsRecord) either_order = dns_zone_parse_record ("www IN 60 A 192.0.2.80 ; web", "example.org.", 1, NULL, &error);
  g_autoptr(DnsRecord) generic = dns_zone_parse_record ("x TYPE99 \\# 3 0a0B0c", "example.org.", 1, NULL, &error);
  g_autoptr(DnsRecord) split_txt = dns_zone_parse_record ("t TXT part1 \"part \\\"2\\\"\" \\0651", "example.org.", 1, NULL, &error);

  assert_null (error);
  assert_string_equal (soa->name, "example.org.");
  assert_int_equal (soa->ttl, 3600);
  assert_string_equal (soa->soa.mname, "ns.example.org.");
  assert_string_equal (soa->soa.rname, "hostmaster.example.org.");
  assert_int_equal (soa->soa.serial, 1);
  assert_int_equal (soa->soa.minimum, 300);
  assert_int_equal (mx->ttl, 86400);
  assert_int_equal (mx->preference, 10);
  assert_string_equal (mx->target, "mx.example.org.");
  assert_string_equal (a->name, "mx.example.org.");
  assert_int_equal (dns_record_get_ipv4 (a), 0xC0000219);
  assert_int_equal (txt->strings->len, 1);
  assert_string_equal (g_ptr_array_index (txt->strings, 0), "v=spf1 -all");
  assert_string_equal (ns->name, "org.");
  assert_string_equal (ns->target, "a0.org-servers.net.");
  assert_int_equal (ns->ttl, 172800);
  assert_int_equal (either_order->ttl, 60);
  assert_int_equal (g_bytes_get_size (generic->raw), 3);
  assert_int_equal (split_txt->strings->len, 3);
  assert_string_equal (g_ptr_array_index (split_txt->strings, 1), "part \"2\"");
  assert_string_equal (g_ptr_array_index (split_txt->strings, 2), "A1");
}

static void
test_record_text_round_trips_through_parser (void **state)
{
  static const guint8 v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
  DnsSoaData soa_data = { "ns.example.org", "host\\.master.example.org", 7, 1, 2, 3, 4 };
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) dns_record_free);
  g_ptr_array_add (records, dns_record_new_a ("a.example.org", 1, 0x0A000001));
  g_ptr_array_add (records, dns_record_new_aaaa ("a.example.org", 2, v6));
  g_ptr_array_add (records, dns_record_new_with_target ("example.org", DNS_TYPE_NS, 3, "ns.example.org"));
  g_ptr_array_add (records, dns_record_new_with_target ("w.example.org", DNS_TYPE_CNAME, 4, "a.example.org"));
  g_ptr_array_add (records, dns_record_new_with_target ("1.0.0.10.in-addr.arpa", DNS_TYPE_PTR, 5, "a.example.org"));
  g_ptr_array_add (records, dns_record_new_mx ("example.org", 6, 0, "."));
  g_ptr_array_add (records, dns_record_new_soa ("example.org", 7, &soa_data));
  g_ptr_array_add (records, dns_record_new_txt ("example.org", 8, "tab\there; \"quoted\" \\ back"));
  DnsRecord *unknown = dns_record_new ("odd\\032name.example.org", 257, 9);
  unknown->raw = g_bytes_new ("\0\5issue", 7);
  g_ptr_array_add (records, unknown);

  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *text = dns_record_to_string (g_ptr_array_index (records, i));
      g_autoptr(GError) error = NULL;
      g_autoptr(DnsRecord) parsed = dns_zone_parse_record (text, "invalid.", 0, NULL, &error);
      if (parsed == NULL)
        fail_msg ("%s: %s", text, error->message);
      if (!dns_record_equal (parsed, g_ptr_array_index (records, i)))
        fail_msg ("%s did not read back equal", text);
    }
}

static void
test_parse_errors_name_the_column (void **state)
{
  static const struct
  {
    const char *text;
    gsize column;
    const char *fragment;
  } cases[] = {
    { "", 0, "expected a record" },
    { "a..b A 192.0.2.1", 0, "owner name" },
    { "mx 300 A 192.0.2.300", 9, "IPv4 address" },
    { "mx AAAA 192.0.2.1", 8, "IPv6 address" },
    { "@ MX ten mx", 5, "MX preference" },
    { "@ MX 10", 7, "expected the mail exchanger" },
    { "@ MAIL 10 mx", 2, "record type" },
    { "@ 3600 CH A 192.0.2.1", 7, "class IN" },
    { "@ 99999999999 A 192.0.2.1", 2, "TTL" },
    { "@ 60 60 A 192.0.2.1", 5, "second TTL" },
    { "@ TXT \"unterminated", 6, "closing" },
    { "@ A 192.0.2.1 extra", 14, "unexpected 'extra'" },
    { "@ SOA ns hostmaster 1 2 3 4", 27, "minimum" },
    { "@ SRV 10 5 25 mx", 6, "generic form" },
    { "@ TYPE99 \\# 3 abcd", 18, "announces 3 octets but 2" },
    { "@ TYPE99 \\# 2 abc", 14, "whole octets" },
    { "@ OPT \\# 0", 2, "pseudo-record" },
    { "@ TXT \"a\\000b\"", 6, "NUL" },
    { "@ NS \"ns\"", 5, "quoted" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gsize column = 9999;
      g_autoptr(DnsRecord) record = dns_zone_parse_record (cases[i].text, "example.org.", 60, &column, &error);

      assert_null (record);
      if (!g_error_matches (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX)
          || column != cases[i].column || strstr (error->message, cases[i].fragment) == NULL)
        fail_msg ("'%s': expected column %zu and \"%s\", got column %zu: %s", cases[i].text,
                  cases[i].column, cases[i].fragment, column, error ? error->message : "(no error)");
    }

  g_autofree char *long_string = g_strdup_printf ("@ TXT ok \"%0256d\"", 0);
  g_autoptr(GError) error = NULL;
  gsize column = 0;
  assert_null (dns_zone_parse_record (long_string, "example.org.", 60, &column, &error));
  assert_int_equal (column, 9);
  assert_non_null (strstr (error->message, "at most 255"));
}

static void
test_add_from_text_rejects_owner_outside_zone (void **state)
{
  g_autoptr(DnsZone) zone = dns_zone_new ("example.org");
  g_autoptr(GError) error = NULL;
  gsize column = 99;

  assert_false (dns_zone_add_from_text (zone, "  mail.example.com. A 192.0.2.1", 60, &column, &error));
  assert_true (g_error_matches (error, DNS_ERROR, DNS_ERROR_ZONE_SYNTAX));
  assert_int_equal (column, 2);
  assert_non_null (strstr (error->message, "outside the zone example.org."));
  assert_int_equal (dns_zone_get_records (zone)->len, 0);
}

static void
test_zone_keeps_rrsets_as_sets_and_removes_them (void **state)
{
  g_autoptr(DnsZone) zone = dns_zone_new ("example.org.");

  dns_zone_add (zone, dns_record_new_a ("mx.example.org", 300, 0xC0000219));
  dns_zone_add (zone, dns_record_new_a ("MX.example.org", 60, 0xC0000219));  /* same data */
  dns_zone_add (zone, dns_record_new_a ("mx.example.org", 300, 0xC000021A));
  dns_zone_add (zone, dns_record_new_txt ("mx.example.org", 300, "hello"));
  assert_int_equal (dns_zone_get_records (zone)->len, 3);

  g_autoptr(GPtrArray) addresses = dns_zone_lookup (zone, "mx.EXAMPLE.org.", DNS_TYPE_A);
  assert_int_equal (addresses->len, 2);

  assert_true (dns_zone_remove (zone, "mx.example.org", DNS_TYPE_A));
  assert_false (dns_zone_remove (zone, "mx.example.org", DNS_TYPE_A));
  assert_int_equal (dns_zone_get_records (zone)->len, 1);
  assert_true (dns_zone_remove (zone, "mx.example.org", DNS_TYPE_ANY));
  assert_int_equal (dns_zone_get_records (zone)->len, 0);
}

static void
test_zone_check_names_the_broken_rule (void **state)
{
  static const struct
  {
    const char *lines[4];
    const char *fragment;
  } cases[] = {
    { { "@ NS ns", "ns A 192.0.2.1" }, "0 SOA records" },
    { { "@ SOA ns h 1 2 3 4 5", "ns A 192.0.2.1" }, "no NS record" },
    { { "@ SOA ns h 1 2 3 4 5", "@ NS ns.example.net.", "www A 192.0.2.1", "www CNAME web" }, "RFC 1034 3.6.2" },
    { { "@ SOA ns h 1 2 3 4 5", "@ NS ns", "@ MX 10 mail", "mail CNAME ns" }, "alias" },
    { { "@ SOA ns h 1 2 3 4 5", "@ NS ns.example.net.", "sub NS ns.sub" }, "glue" },
    { { "@ SOA ns h 1 2 3 4 5", "@ NS ns.example.net.", "x SOA ns h 1 2 3 4 5" }, "owned by the origin" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize count = 0;
      while (count < 4 && cases[i].lines[count] != NULL)
        count++;
      g_autoptr(DnsZone) zone = zone_from_lines ("example.org.", cases[i].lines, count);
      g_autoptr(GError) error = NULL;
      assert_false (dns_zone_check (zone, &error));
      if (strstr (error->message, cases[i].fragment) == NULL)
        fail_msg ("case %zu: expected \"%s\" in: %s", i, cases[i].fragment, error->message);
    }
}

static void
test_hosted_zones_pass_the_check (void **state)
{
  GPtrArray *zones = *state;

  for (guint i = 0; i < zones->len; i++)
    {
      g_autoptr(GError) error = NULL;
      if (!dns_zone_check (g_ptr_array_index (zones, i), &error))
        fail_msg ("%s", error->message);
    }
}

static void
test_answer_mx_brings_exchanger_addresses (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "example.org", DNS_TYPE_MX);

  assert_true (response->aa);
  assert_int_equal (response->rcode, DNS_RCODE_NOERROR);
  assert_int_equal (dns_message_classify (response), DNS_RESPONSE_ANSWER);
  ASSERT_SECTION (response->answers,
                  "example.org. 3600 IN MX 10 mx.example.org.",
                  "example.org. 3600 IN MX 20 mx2.example.net.");
  ASSERT_SECTION (response->authorities);
  ASSERT_SECTION (response->additionals,
                  "mx.example.org. 300 IN A 192.0.2.25",
                  "mx.example.org. 3600 IN AAAA 2001:db8::25",
                  "mx2.example.net. 3600 IN A 198.51.100.25");
}

static void
test_answer_follows_cname_chain_inside_zone (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "alias.example.org", DNS_TYPE_A);

  assert_true (response->aa);
  ASSERT_SECTION (response->answers,
                  "alias.example.org. 3600 IN CNAME www.example.org.",
                  "www.example.org. 3600 IN CNAME web.example.org.",
                  "web.example.org. 3600 IN A 192.0.2.80");
}

static void
test_answer_cname_leaving_zone_stops_there (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "away.example.org", DNS_TYPE_A);

  assert_int_equal (response->rcode, DNS_RCODE_NOERROR);
  ASSERT_SECTION (response->answers, "away.example.org. 3600 IN CNAME mail.example.net.");
  ASSERT_SECTION (response->authorities);
}

static void
test_answer_cname_query_returns_the_alias_itself (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "www.example.org", DNS_TYPE_CNAME);

  ASSERT_SECTION (response->answers, "www.example.org. 3600 IN CNAME web.example.org.");
}

static void
test_answer_below_delegation_is_referral_with_glue (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "host.sub.example.org", DNS_TYPE_A);

  assert_false (response->aa);
  assert_int_equal (response->rcode, DNS_RCODE_NOERROR);
  assert_int_equal (dns_message_classify (response), DNS_RESPONSE_REFERRAL);
  assert_string_equal (dns_message_explain_key (response), "dns.response.referral");
  ASSERT_SECTION (response->answers);
  ASSERT_SECTION (response->authorities,
                  "sub.example.org. 3600 IN NS ns1.sub.example.org.",
                  "sub.example.org. 3600 IN NS ns.example.net.");
  ASSERT_SECTION (response->additionals,
                  "ns1.sub.example.org. 3600 IN A 192.0.2.99",
                  "ns.example.net. 3600 IN A 198.51.100.53");

  /* The glue itself is below the cut: asking for it is referred too. */
  g_autoptr(DnsMessage) glue = ask (*state, "ns1.sub.example.org", DNS_TYPE_A);
  assert_int_equal (dns_message_classify (glue), DNS_RESPONSE_REFERRAL);
}

static void
test_answer_missing_name_is_nxdomain_with_soa (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "nobody.example.org", DNS_TYPE_A);

  assert_true (response->aa);
  assert_int_equal (response->rcode, DNS_RCODE_NXDOMAIN);
  assert_string_equal (dns_message_explain_key (response), "dns.response.nxdomain");
  ASSERT_SECTION (response->answers);
  /* RFC 2308 3: TTL lowered from 3600 to the SOA minimum, 300. */
  ASSERT_SECTION (response->authorities,
                  "example.org. 300 IN SOA ns.example.org. hostmaster.example.org. "
                  "2024060101 7200 900 1209600 300");
}

static void
test_answer_missing_type_is_nodata_with_soa (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "mx.example.org", DNS_TYPE_MX);

  assert_true (response->aa);
  assert_int_equal (response->rcode, DNS_RCODE_NOERROR);
  assert_int_equal (dns_message_classify (response), DNS_RESPONSE_NODATA);
  ASSERT_SECTION (response->answers);
  assert_int_equal (response->authorities->len, 1);
  assert_int_equal (((DnsRecord *) g_ptr_array_index (response->authorities, 0))->type, DNS_TYPE_SOA);
}

static void
test_answer_empty_non_terminal_is_nodata (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "_tcp.example.org", DNS_TYPE_TXT);

  assert_int_equal (response->rcode, DNS_RCODE_NOERROR);
  assert_int_equal (dns_message_classify (response), DNS_RESPONSE_NODATA);
}

static void
test_answer_picks_zone_with_longest_origin (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "host.deep.example.org", DNS_TYPE_A);
  g_autoptr(DnsMessage) missing = ask (*state, "none.deep.example.org", DNS_TYPE_A);

  ASSERT_SECTION (response->answers, "host.deep.example.org. 3600 IN A 192.0.2.200");
  assert_int_equal (missing->rcode, DNS_RCODE_NXDOMAIN);
  ASSERT_SECTION (missing->authorities,
                  "deep.example.org. 60 IN SOA ns.example.org. hostmaster.example.org. 1 7200 900 1209600 60");
}

static void
test_answer_outside_hosted_zones_is_refused (void **state)
{
  g_autoptr(DnsMessage) response = ask (*state, "example.com", DNS_TYPE_A);

  assert_int_equal (response->rcode, DNS_RCODE_REFUSED);
  assert_false (response->aa);
  assert_int_equal (response->answers->len + response->authorities->len + response->additionals->len, 0);
}

static void
test_answer_rejects_what_it_cannot_serve (void **state)
{
  GPtrArray *zones = *state;
  g_autoptr(DnsMessage) notify = dns_message_new_query (1, "example.org", DNS_TYPE_SOA, FALSE);
  g_autoptr(DnsMessage) two_questions = dns_message_new_query (2, "example.org", DNS_TYPE_A, FALSE);
  g_autoptr(DnsMessage) chaos = dns_message_new_query (3, "version.bind", DNS_TYPE_TXT, FALSE);
  g_autoptr(DnsMessage) edns1 = dns_message_new_query (4, "example.org", DNS_TYPE_A, FALSE);
  g_autoptr(DnsMessage) response = dns_message_new_query (5, "example.org", DNS_TYPE_A, FALSE);

  notify->opcode = 4;
  g_ptr_array_add (two_questions->questions, dns_question_new ("example.net", DNS_TYPE_A));
  ((DnsQuestion *) g_ptr_array_index (chaos->questions, 0))->klass = 3;
  edns1->has_edns = TRUE;
  edns1->edns_udp_size = 1232;
  edns1->edns_version = 1;
  response->qr = TRUE;

  g_autoptr(DnsMessage) a = dns_zones_answer (zones, notify);
  g_autoptr(DnsMessage) b = dns_zones_answer (zones, two_questions);
  g_autoptr(DnsMessage) c = dns_zones_answer (zones, chaos);
  g_autoptr(DnsMessage) d = dns_zones_answer (zones, edns1);
  assert_int_equal (a->rcode, DNS_RCODE_NOTIMP);
  assert_int_equal (b->rcode, DNS_RCODE_FORMERR);
  assert_int_equal (c->rcode, DNS_RCODE_REFUSED);
  assert_int_equal (d->rcode, DNS_RCODE_BADVERS);
  assert_null (dns_zones_answer (zones, response));

  /* BADVERS needs the extended rcode bits of the OPT record. */
  g_autoptr(GBytes) bytes = dns_message_encode (d, 0);
  g_autoptr(DnsMessage) decoded = dns_message_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);
  assert_int_equal (decoded->rcode, DNS_RCODE_BADVERS);
  assert_int_equal (decoded->edns_version, 0);
}

static void
test_answer_to_edns_query_carries_opt (void **state)
{
  g_autoptr(DnsMessage) query = dns_message_new_query (9, "example.org", DNS_TYPE_TXT, FALSE);
  query->has_edns = TRUE;
  query->edns_udp_size = 4096;
  g_autoptr(DnsMessage) response = dns_zones_answer (*state, query);

  assert_true (response->has_edns);
  assert_int_equal (response->edns_udp_size, DNS_EDNS_UDP_SIZE);
  ASSERT_SECTION (response->answers, "example.org. 3600 IN TXT \"v=spf1 mx -all\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_record_reads_zone_file_forms),
    cmocka_unit_test (test_record_text_round_trips_through_parser),
    cmocka_unit_test (test_parse_errors_name_the_column),
    cmocka_unit_test (test_add_from_text_rejects_owner_outside_zone),
    cmocka_unit_test (test_zone_keeps_rrsets_as_sets_and_removes_them),
    cmocka_unit_test (test_zone_check_names_the_broken_rule),
    cmocka_unit_test_setup_teardown (test_hosted_zones_pass_the_check, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_mx_brings_exchanger_addresses, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_follows_cname_chain_inside_zone, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_cname_leaving_zone_stops_there, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_cname_query_returns_the_alias_itself, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_below_delegation_is_referral_with_glue, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_missing_name_is_nxdomain_with_soa, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_missing_type_is_nodata_with_soa, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_empty_non_terminal_is_nodata, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_picks_zone_with_longest_origin, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_outside_hosted_zones_is_refused, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_rejects_what_it_cannot_serve, setup_zones, teardown_zones),
    cmocka_unit_test_setup_teardown (test_answer_to_edns_query_carries_opt, setup_zones, teardown_zones),
  };

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
