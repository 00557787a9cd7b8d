/* sim-explain-core.c: catalogue entries for the network and the nodes. */
#include "trace/sim-explain.h"

const SimExplanation sim_explain_core[] = {
  { "tcp.connect", "RFC 9293 3.5", "The client opens a TCP connection with a SYN segment: a reliable, ordered byte stream is needed before any mail protocol can speak." },
  { "tcp.accept", "RFC 9293 3.5", "A program listens on that port, so the server answers SYN-ACK and the three-way handshake completes." },
  { "tcp.refused", "RFC 9293 3.10.7.1", "Nothing listens on that port, so the host answers the SYN with a reset (RST): connection refused." },
  { "tcp.unreachable", "RFC 9293 3.8.3", "No packet can reach the destination (a link or the host is down), so the connection attempt will time out." },
  { "tcp.lost", "RFC 9293 3.8.1", "The segment was lost on the way; TCP retransmits for a while and then gives up on the connection." },
  { "tcp.close", "RFC 9293 3.6", "This side has nothing more to send and closes its half of the connection with a FIN segment." },
  { "tcp.reset", "RFC 9293 3.10.7", "The connection broke: the other side crashed or the path failed, so any unfinished exchange is lost." },
  { "mail.submitted", "RFC 6409 1", "The user's mail client hands a new message to the provider's submission server." },
  { "mail.queued", "RFC 5321 6.1", "The MTA answered 250 to the final dot: from now on it is responsible for delivering the message or reporting failure." },
  { "mail.route.local", "RFC 5321 5.1", "The recipient's domain is one this MTA serves itself, so no DNS lookup is needed: the message goes to the local mail store." },
  { "mail.route.mx", "RFC 5321 5.1", "To find where a domain takes mail, the MTA asks DNS for its MX records and tries the exchangers in order of preference." },
  { "mail.route.implicit-mx", "RFC 5321 5.1", "The domain has no MX record, so its own address record (A) is used as an implicit MX of preference 0." },
  { "mail.route.smarthost", "RFC 5321 3.6.1", "This MTA is configured to relay all outgoing mail through another MTA (a smarthost), which takes it one hop further." },
  { "mail.relayed", "RFC 5321 4.4", "The next MTA accepted the message; each MTA that relays it adds a Received header, so the message carries its own travel log." },
  { "mail.delivered", "RFC 5321 4.4", "The message is filed in the recipient's mailbox; the final MTA records the envelope sender in a Return-Path header." },
  { "mail.deferred", "RFC 5321 4.5.4.1", "The attempt failed temporarily (4xx reply, timeout or no answer), so the message stays queued and will be retried later." },
  { "mail.bounced", "RFC 5321 6.2", "Delivery failed permanently (5xx reply or too long in the queue), so the MTA sends a non-delivery report back to the sender." },
  { "mail.dsn", "RFC 3464 2", "A delivery status notification is a message from the mailer daemon, sent with the null reverse-path <> so it can never bounce again." },
  { "mail.received-header", "RFC 5321 4.4", "Each MTA prepends a Received header naming who it got the message from and when, so the path can be read back hop by hop." },
  { "mail.fetched", "RFC 1939 / RFC 3501", "The recipient's mail client downloaded the message from the mail store." },
  { "mail.filed", "RFC 2033 1", "The mail store has written the message into the recipient's mailbox folder." },
  { "dns.lookup", "RFC 1034 5.3.1", "The MTA's stub resolver asks a recursive DNS server to resolve a name." },
  { "dns.lookup.done", "RFC 1034 5.3.1", "The stub resolver got its answer and hands it back to the program that asked." },
  { "action.send", NULL, "The scenario's timeline makes a user write and send a message now." },
  { "action.fetch", NULL, "The scenario's timeline makes a user check their mail now." },
  { "action.fault", NULL, "The instructor's scenario changes the world at this moment: something breaks or is repaired." },
  { "expect.pass", NULL, "An expectation written in the scenario held when the run ended." },
  { "expect.fail", NULL, "An expectation written in the scenario did not hold: the behaviour differs from what the scenario says." },
};
const gsize sim_explain_core_count = G_N_ELEMENTS (sim_explain_core);
