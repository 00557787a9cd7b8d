/* sim-explain-pop3.c: what each POP3 line means, for students. */
#include "trace/sim-explain.h"

const SimExplanation sim_explain_pop3[] = {
  /* What a client sends (sim/proto/pop3/pop3-client.c). */
  { "pop3.cmd.capa", "RFC 2449 5", "The client asks which optional POP3 features this server supports." },
  { "pop3.cmd.user", "RFC 1939 7", "The client names the mailbox it wants to read." },
  { "pop3.cmd.pass", "RFC 1939 7", "The client sends the password, as plain text." },
  { "pop3.cmd.apop", "RFC 1939 7", "The client logs in with a digest of the server's greeting timestamp and the password, so the password itself never crosses the network." },
  { "pop3.cmd.stat", "RFC 1939 5", "The client asks how many messages wait and how many octets they take." },
  { "pop3.cmd.list", "RFC 1939 5", "The client asks for the number and size of each message." },
  { "pop3.cmd.uidl", "RFC 1939 7", "The client asks for the unique id of each message, to recognise messages it downloaded before." },
  { "pop3.cmd.retr", "RFC 1939 5", "The client downloads one whole message." },
  { "pop3.cmd.top", "RFC 1939 7", "The client downloads only the header and the first lines of a message." },
  { "pop3.cmd.dele", "RFC 1939 5", "The client marks a message for deletion; it disappears only when the session ends with QUIT." },
  { "pop3.cmd.noop", "RFC 1939 5", "The client checks that the server is still there." },
  { "pop3.cmd.rset", "RFC 1939 5", "The client takes back every deletion mark of this session." },
  { "pop3.cmd.quit", "RFC 1939 6", "The client ends the session; the server now really deletes the marked messages." },

  /* What a server sends (sim/proto/pop3/pop3-server.c). */
  { "pop3.greeting", "RFC 1939 4", "The POP3 server is ready; the <...> timestamp is what an APOP login digests." },
  { "pop3.reply.capa", "RFC 2449 5", "The server lists the optional features it supports, one per line, ending with a dot." },
  { "pop3.reply.user", "RFC 1939 7", "The server waits for the password; it does not yet say whether the mailbox exists." },
  { "pop3.reply.pass", "RFC 1939 4", "The login worked: the server locked the mailbox for this session and counted its messages." },
  { "pop3.reply.stat", "RFC 1939 5", "The server gives the number of messages and their total size in octets." },
  { "pop3.reply.list", "RFC 1939 5", "The server gives the size of each message, ending the list with a dot." },
  { "pop3.reply.uidl", "RFC 1939 7", "The server gives each message's unique id, which stays the same in later sessions." },
  { "pop3.reply.retr", "RFC 1939 5", "The server sends the whole message; a line starting with a dot gets an extra dot, and a lone dot ends it." },
  { "pop3.reply.top", "RFC 1939 7", "The server sends the header and the first lines of the message, ending with a dot." },
  { "pop3.reply.dele", "RFC 1939 5", "The message is marked deleted; it is removed only if the session ends with QUIT." },
  { "pop3.reply.noop", "RFC 1939 5", "The server is still there and does nothing." },
  { "pop3.reply.rset", "RFC 1939 5", "The server removed every deletion mark of this session." },
  { "pop3.reply.quit", "RFC 1939 6", "The server says goodbye before any login, so nothing changes in the mailbox." },
  { "pop3.reply.update", "RFC 1939 6", "The server removed the messages marked deleted, unlocked the mailbox and closes the connection." },
  { "pop3.err.auth", "RFC 3206 4", "The login failed: wrong user name or password." },
  { "pop3.err.locked", "RFC 2449 8.1.2", "Another POP3 session is using this mailbox, so the server refuses a second one." },
  { "pop3.err.state", "RFC 1939 3", "The command is not allowed now, for example RETR before logging in." },
  { "pop3.err.syntax", "RFC 1939 3", "The command's arguments are missing or wrong." },
  { "pop3.err.unknown", "RFC 1939 3", "The server does not know this command." },
  { "pop3.err.no-such-message", "RFC 1939 5", "There is no message with that number in the mailbox." },
  { "pop3.err.deleted", "RFC 1939 5", "That message is already marked deleted in this session." },
  { "pop3.err.line-too-long", "RFC 2449 4", "The command line is longer than 255 octets, so the server ignores it." },
  { "pop3.err.update", "RFC 1939 6", "The server could not remove every message marked deleted." },
};

const gsize sim_explain_pop3_count = G_N_ELEMENTS (sim_explain_pop3);
