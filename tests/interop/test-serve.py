#!/usr/bin/env python3
"""Real clients against `mailsim serve`: swaks, curl, dig and Python's
smtplib, imaplib and poplib, plus hostile clients (many at once, slow,
vanishing, oversize lines, binary garbage).

Usage: test-serve.py MAILSIM SCENARIO

Every loop is bounded in count and time; the server this test starts is
stopped by it (SIGINT, then SIGKILL if it does not stop)."""

import imaplib
import os
import poplib
import random
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

MAILSIM, SCENARIO = sys.argv[1], sys.argv[2]
HOST = "127.0.0.1"
results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else ": " + str(detail)), flush=True)


def start_server(extra=()):
    args = [MAILSIM, "serve", SCENARIO, "--quiet", *extra,
            "--smtp", "0=mx.example.org", "--submission", "0=smtp.example.com",
            "--pop3", "0=mail.example.org", "--imap", "0=mail.example.org", "--dns", "0=ns.example.org"]
    server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ports = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        if not line:
            break
        found = re.match(r"mailsim serve: (\w+) of \S+ \(port \d+\) on [\d.]+:(\d+)", line)
        if found:
            ports[found.group(1)] = int(found.group(2))
        if "press Ctrl-C" in line:
            return server, ports
    server.kill()
    raise SystemExit("mailsim serve did not start: %r" % ports)


def run(command, timeout=20, input_text=None):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input_text)
    return done.returncode, done.stdout + done.stderr


def wait_for_subject(port, subject, seconds=15):
    """Polls bob's INBOX over IMAP until a message with @subject is there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        imap = imaplib.IMAP4(HOST, port, timeout=10)
        imap.login("bob@example.org", "secret")
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", '"%s"' % subject)
        imap.logout()
        if typ == "OK" and data[0].split():
            return True
        time.sleep(0.2)
    return False


def smtp_dialogue(port, lines, read_timeout=10):
    """Sends raw lines, returns everything the server said."""
    with socket.create_connection((HOST, port), timeout=read_timeout) as s:
        received = s.recv(4096)
        for line in lines:
            s.sendall(line)
            time.sleep(0.05)
        s.settimeout(1.0)
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            received += chunk
    return received


def check_record_and_replay():
    """A live session saved with --record replays the same trace."""
    with tempfile.TemporaryDirectory() as folder:
        recording = os.path.join(folder, "session.mailsim")
        live_trace = os.path.join(folder, "live.jsonl")
        replay_trace = os.path.join(folder, "replay.jsonl")
        capture = os.path.join(folder, "live.pcap")
        server, ports = start_server(["--record", recording, "--json", live_trace, "--pcap", capture])
        try:
            run(["swaks", "--server", "%s:%d" % (HOST, ports["smtp"]), "--from", "carol@example.net",
                 "--to", "bob@example.org", "--h-Subject", "Recorded"])
            run(["dig", "@" + HOST, "-p", str(ports["dns"]), "example.org", "MX", "+time=3", "+tries=1"])
            imap = imaplib.IMAP4(HOST, ports["imap"], timeout=10)
            imap.login("bob@example.org", "secret")
            imap.select("INBOX")
            imap.fetch("1:*", "(FLAGS)")
            imap.logout()
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=10)
        check("--record writes a scenario", os.path.exists(recording))
        with open(capture, "rb") as pcap:
            header = pcap.read(24)
        # libpcap's magic number, in either byte order, and raw IPv4 (linktype 101, LINKTYPE_RAW).
        check("serve --pcap writes a capture", header[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
              and os.path.getsize(capture) > 1000, header)
        code, out = run([MAILSIM, "run", "--quiet", "--json", replay_trace, recording])
        check("the recording runs with no failed expectation", code == 0, out[-500:])
        with open(live_trace) as live, open(replay_trace) as replay:
            live_lines, replay_lines = live.read().splitlines(), replay.read().splitlines()
        check("the recording replays the live trace byte for byte",
              len(live_lines) > 20 and live_lines == replay_lines,
              "%d live lines, %d replayed" % (len(live_lines), len(replay_lines)))


def main():
    missing = [tool for tool in ("swaks", "curl", "dig") if not shutil.which(tool)]
    if missing:
        print("FAIL these interoperability tests need %s (Debian packages swaks, curl, dnsutils)" % ", ".join(missing))
        print("0 passed, 1 failed")
        return 1
    server, ports = start_server()
    try:
        # --- DNS ---
        code, out = run(["dig", "@" + HOST, "-p", str(ports["dns"]), "example.org", "MX", "+time=3", "+tries=1"])
        check("dig over UDP gets the MX", code == 0 and "10 mx.example.org." in out and "status: NOERROR" in out, out)
        code, out = run(["dig", "@" + HOST, "-p", str(ports["dns"]), "mx.example.org", "A", "+tcp", "+time=3", "+tries=1"])
        check("dig over TCP gets the A record", code == 0 and "203.0.113.25" in out, out)
        code, out = run(["dig", "@" + HOST, "-p", str(ports["dns"]), "nowhere.example.org", "A", "+time=3", "+tries=1"])
        check("dig gets NXDOMAIN for a missing name", "status: NXDOMAIN" in out, out)

        # A burst of random datagrams (some with a readable header, so they get
        # FORMERR) must not stop the server answering the next real query.
        noise = random.Random(5353)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for _ in range(200):
                udp.sendto(bytes(noise.randrange(256) for _ in range(noise.randrange(1, 600))), (HOST, ports["dns"]))
        code, out = run(["dig", "@" + HOST, "-p", str(ports["dns"]), "example.org", "MX", "+time=3", "+tries=1"])
        check("dig is answered after a burst of random datagrams", code == 0 and "10 mx.example.org." in out, out)

        # --- SMTP: swaks, smtplib, curl ---
        code, out = run(["swaks", "--server", "%s:%d" % (HOST, ports["smtp"]), "--from", "carol@example.net",
                         "--to", "bob@example.org", "--h-Subject", "From swaks", "--body", "Sent by swaks"])
        check("swaks delivers to bob over port 25", code == 0 and "Ok: queued as" in out, out)

        smtp = smtplib.SMTP(HOST, ports["smtp"], timeout=10)
        code, text = smtp.ehlo("python.example.net")
        check("smtplib EHLO advertises extensions", code == 250 and b"ENHANCEDSTATUSCODES" in text, text)
        try:
            smtp.sendmail("dave@example.net", ["someone@elsewhere.test"], "Subject: relay?\r\n\r\nx\r\n")
            check("no open relay", False, "relay accepted")
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = refused.recipients["someone@elsewhere.test"]
            check("no open relay: 554 5.7.1", code == 554 and b"5.7.1" in text, refused.recipients)
        try:
            smtp.sendmail("dave@example.net", ["nobody@example.org"], "Subject: x\r\n\r\nx\r\n")
            check("unknown user refused", False, "accepted")
        except smtplib.SMTPRecipientsRefused as refused:
            check("unknown user refused with 550 5.1.1", refused.recipients["nobody@example.org"][0] == 550, refused.recipients)
        smtp.quit()

        submission = smtplib.SMTP(HOST, ports["submission"], timeout=10)
        submission.ehlo("laptop.example.net")
        try:
            submission.sendmail("alice@example.com", ["bob@example.org"], "Subject: no auth\r\n\r\nx\r\n")
            check("submission needs AUTH", False, "accepted without AUTH")
        except smtplib.SMTPSenderRefused as refused:
            check("submission needs AUTH: 530", refused.smtp_code == 530, refused)
        submission.login("alice@example.com", "secret")
        refused = submission.sendmail("alice@example.com", ["bob@example.org"],
                                      "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: Via submission\r\n\r\nhi\r\n")
        check("smtplib submits with AUTH PLAIN", refused == {}, refused)
        submission.quit()
        check("submitted mail travels MX lookup, relay and LMTP to bob", wait_for_subject(ports["imap"], "Via submission"))

        with tempfile.NamedTemporaryFile("w", suffix=".eml", delete=False) as message:
            message.write("From: erin@example.net\r\nTo: bob@example.org\r\nSubject: From curl\r\n\r\nhello\r\n")
        code, out = run(["curl", "-sS", "--max-time", "15", "smtp://%s:%d" % (HOST, ports["smtp"]),
                         "--mail-from", "erin@example.net", "--mail-rcpt", "bob@example.org", "--upload-file", message.name])
        os.unlink(message.name)
        check("curl sends over SMTP", code == 0, out)
        check("swaks' and curl's mail reach bob's INBOX",
              wait_for_subject(ports["imap"], "From swaks") and wait_for_subject(ports["imap"], "From curl"))

        # --- reading: imaplib, poplib, curl ---
        # The scenario's own message (alice's, sent at 1s) lands in the same
        # INBOX; wait for it so the counts below do not race with it.
        check("the scenario's own message arrives meanwhile", wait_for_subject(ports["imap"], "Lunch on Friday?"))
        imap = imaplib.IMAP4(HOST, ports["imap"], timeout=10)
        typ, _ = imap.login("bob@example.org", "secret")
        typ, data = imap.select("INBOX")
        count = int(data[0])
        check("imaplib SELECT sees the messages", typ == "OK" and count >= 3, data)
        typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        check("imaplib FETCH of a header field", typ == "OK" and b"Subject:" in data[0][1], data)
        typ, data = imap.uid("SEARCH", None, "SUBJECT", '"From curl"')
        check("imaplib UID SEARCH finds curl's message", typ == "OK" and len(data[0].split()) == 1, data)
        imap.logout()

        pop = poplib.POP3(HOST, ports["pop3"], timeout=10)
        pop.user("bob@example.org")
        pop.pass_("secret")
        messages, size = pop.stat()
        check("poplib STAT counts the same messages", messages == count and size > 0, (messages, size))
        response, lines, octets = pop.retr(1)
        check("poplib RETR returns the message", response.startswith(b"+OK") and any(l.startswith(b"Received:") for l in lines))
        pop.quit()

        # A message sent over SMTP comes back byte-identical over IMAP and
        # POP3: the original bytes, after the trace fields the MTAs added.
        original = ("From: frank@example.net\r\nTo: bob@example.org\r\nSubject: Byte for byte\r\n\r\n"
                    "Line one.\r\n.A line starting with a dot.\r\n..Two dots.\r\nTab\there.\r\n")
        relay = smtplib.SMTP(HOST, ports["smtp"], timeout=10)
        relay.sendmail("frank@example.net", ["bob@example.org"], original)
        relay.quit()
        check("the byte-for-byte message arrives", wait_for_subject(ports["imap"], "Byte for byte"))
        imap = imaplib.IMAP4(HOST, ports["imap"], timeout=10)
        imap.login("bob@example.org", "secret")
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", '"Byte for byte"')
        number = data[0].split()[0]
        typ, data = imap.fetch(number, "(BODY.PEEK[])")
        over_imap = data[0][1]
        imap.logout()
        pop = poplib.POP3(HOST, ports["pop3"], timeout=10)
        pop.user("bob@example.org")
        pop.pass_("secret")
        over_pop = None
        for index in range(1, pop.stat()[0] + 1):
            _, lines, _ = pop.retr(index)
            candidate = b"\r\n".join(lines) + b"\r\n"
            if b"Subject: Byte for byte" in candidate:
                over_pop = candidate
        pop.quit()
        check("IMAP and POP3 return the same bytes", over_pop is not None and over_pop == over_imap,
              (over_pop, over_imap))
        check("the original message is intact after the trace fields",
              over_imap.endswith(original.encode()) and over_imap.startswith(b"Return-Path: <frank@example.net>\r\n"),
              over_imap)

        code, out = run(["curl", "-sS", "--max-time", "15", "--user", "bob@example.org:secret",
                         "imap://%s:%d/INBOX;UID=1" % (HOST, ports["imap"])])
        check("curl fetches over IMAP", code == 0 and "Return-Path:" in out, out[:300])
        code, out = run(["curl", "-sS", "--max-time", "15", "--user", "bob@example.org:secret",
                         "pop3://%s:%d/" % (HOST, ports["pop3"])])
        check("curl lists over POP3", code == 0 and re.search(r"^1 \d+", out, re.M), out)

        # --- hostile clients ---
        said = smtp_dialogue(ports["smtp"], [b"EHLO " + b"A" * 2000 + b"\r\n", b"NOOP\r\n", b"QUIT\r\n"])
        # Without a successful EHLO the session is plain SMTP, so the replies
        # carry no enhanced status codes (RFC 2034 3).
        check("oversize command line gets 500 and the session goes on",
              b"\r\n500 " in said and b"\r\n250 " in said and b"\r\n221 " in said, said[-300:])
        rng = random.Random(20261130)
        garbage = bytes(rng.randrange(256) for _ in range(4096))
        said = smtp_dialogue(ports["smtp"], [garbage, b"\r\nQUIT\r\n"])
        check("binary garbage gets 500 replies, not a crash", b"500" in said, said[:200])

        with socket.create_connection((HOST, ports["smtp"]), timeout=10) as s:
            s.recv(4096)
            s.sendall(b"MAIL FROM:<vanish@exa")   # and vanish mid-command
        with socket.create_connection((HOST, ports["smtp"]), timeout=10) as s:
            greeting = s.recv(4096)
            for byte in b"EHLO slow.example.net\r\n":   # a slow client, one octet at a time
                s.sendall(bytes([byte]))
                time.sleep(0.01)
            s.settimeout(5)
            reply = b""
            while not reply.endswith(b"ENHANCEDSTATUSCODES\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            check("a slow client is served after one that vanished", greeting.startswith(b"220") and b"250 " in reply, reply)

        sockets = []
        for _ in range(200):
            sockets.append(socket.create_connection((HOST, ports["smtp"]), timeout=15))
        greeted = 0
        for s in sockets:
            if s.recv(4096).startswith(b"220"):
                greeted += 1
        for s in sockets:
            s.sendall(b"QUIT\r\n")
        closed = 0
        for s in sockets:
            data = b""
            deadline = time.monotonic() + 15
            while b"221" not in data and time.monotonic() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            closed += b"221" in data
            s.close()
        check("200 concurrent connections are all greeted and closed", greeted == 200 and closed == 200, (greeted, closed))

        with open("/proc/%d/status" % server.pid) as status:
            rss = int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))
        check("memory stays bounded (RSS under 200 MiB)", rss < 200 * 1024, "%d KiB" % rss)
        check("the server is still alive", server.poll() is None)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    check("Ctrl-C stops the server cleanly", server.returncode == 0, server.returncode)
    check("Ctrl-C prints the accounting summary", "still queued:" in out and "real connections served" in out, out[-500:])

    check_record_and_replay()

    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
