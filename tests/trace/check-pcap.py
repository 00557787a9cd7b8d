#!/usr/bin/env python3
"""Wireshark reads every scenario's capture the way the narration tells it.

Usage: check-pcap.py MAILSIM TSHARK SCENARIO...

For each scenario: `mailsim run --quiet --pcap OUT --json TRACE SCENARIO`,
then tshark must find no malformed packet, no TCP analysis flag (lost or
unseen segments, retransmissions, duplicate ACKs, full windows...) and no
bad checksum, and its SMTP, IMAP and POP dissectors must show the client
commands of the narration, in the narration's order.  LMTP (port 24) is
not dissected by default; decoded as SMTP it must show LHLO and the rest.

Everything is written to a temporary directory removed at the end, and
tshark reads no personal preferences (WIRESHARK_CONFIG_DIR points there).
"""
import json
import os
import subprocess
import sys
import tempfile

# Narration protocol -> (tshark field of the client's command, where the
# command word sits in a line, explanation keys of client command lines).
DISSECTED = {
    "smtp": ("smtp.req.command", 0, "smtp.cmd."),
    "imap": ("imap.request.command", 1, "imap.cmd."),
    "pop3": ("pop.request.command", 0, "pop3.cmd."),
}
# Lines that are client data rather than commands: IDLE's DONE, literals.
NOT_COMMANDS = {"imap.cmd.done", "imap.cmd.literal"}


def lossy(trace_path):
    """Whether the run lost and resent TCP segments on a lossy link."""
    with open(trace_path, encoding="utf-8") as trace:
        return any(json.loads(line).get("explain") == "tcp.retransmit" for line in trace)


def narrated_commands(trace_path, protocol):
    """The client command words of @protocol, as the narration shows them."""
    if protocol == "lmtp":
        # RFC 2033: LMTP is SMTP with LHLO; its lines carry SMTP's keys.
        word_index, prefix = 0, ("lmtp.cmd.", "smtp.cmd.")
    else:
        _, word_index, prefix = DISSECTED[protocol]
    commands = []
    resent = {}
    with open(trace_path, encoding="utf-8") as trace:
        for line in trace:
            event = json.loads(line)
            # A client's segment lost on the way had already left the client,
            # where the capture sees it: the narration shows it too, as LOST.
            if event["kind"] not in ("data", "lost") or not event.get("from_client"):
                continue
            # After STARTTLS the capture holds TLS records: Wireshark cannot
            # read the commands inside, and neither can an eavesdropper.
            if event.get("encrypted"):
                continue
            if event["protocol"] != protocol or event.get("explain") in NOT_COMMANDS:
                continue
            # A segment lost and sent again leaves the client more than once:
            # the capture at the client holds every copy of the command.
            if event["kind"] == "lost" and event.get("explain") == "tcp.retransmit":
                key = event.get("connection")
                resent[key] = resent.get(key, 0) + 1
                continue
            copies = 1 + resent.pop(event.get("connection"), 0)
            if not (event.get("explain") or "").startswith(prefix):
                continue
            for summary in event.get("summary", []):
                if not summary.startswith("C: "):
                    continue
                words = summary[len("C: "):].split()
                if len(words) <= word_index:
                    continue
                word = words[word_index].upper()
                # Wireshark's SMTP dissector keeps four letters of a command
                # (RFC 821's verbs were all four): STARTTLS shows as STAR.
                if protocol == "smtp":
                    word = word[:4]
                # Wireshark names "a3 UID FETCH" by the command after UID.
                if protocol == "imap" and word == "UID" and len(words) > word_index + 1:
                    word = words[word_index + 1].upper()
                commands.extend([word] * copies)
    return commands


def tshark(binary, capture, *arguments):
    result = subprocess.run(
        [binary, "-r", capture,
         "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"tshark {' '.join(arguments)} failed: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def dissected_commands(binary, capture, field, display_filter=None, *arguments):
    commands = []
    for line in tshark(binary, capture, *arguments, "-Y", display_filter or field, "-T", "fields", "-e", field,
                       "-E", "occurrence=a", "-E", "aggregator=,"):
        commands.extend(word.upper() for word in line.split(",") if word)
    return commands


def check_scenario(mailsim, binary, scenario, directory):
    problems = []
    name = os.path.splitext(os.path.basename(scenario))[0]
    capture = os.path.join(directory, name + ".pcap")
    trace = os.path.join(directory, name + ".jsonl")
    run = subprocess.run([mailsim, "run", "--quiet", "--pcap", capture, "--json", trace, scenario],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    # 1 means an expectation failed: the scenario library test reports that.
    if run.returncode not in (0, 1) or not os.path.exists(capture):
        return [f"mailsim run exited {run.returncode}: {run.stderr.strip()}"]

    if not tshark(binary, capture, "-c", "1"):
        problems.append("the capture holds no packet")
    for what, display_filter, extra in (
            ("malformed packets", "_ws.malformed", ()),
            ("malformed packets with port 24 decoded as SMTP", "_ws.malformed", ("-d", "tcp.port==24,smtp")),
            # A lossy link's trace (segments lost and sent again) makes the
            # capture honestly show what the client's side saw: a server
            # segment lost on the way was never captured there.
            ("TCP analysis flags",
             "tcp.analysis.flags" + (" && !tcp.analysis.lost_segment && !tcp.analysis.ack_lost_segment"
                                     if lossy(trace) else ""), ()),
            ("bad checksums", "ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0",
             ())):
        found = tshark(binary, capture, *extra, "-Y", display_filter)
        if found:
            problems.append(f"{what}:\n    " + "\n    ".join(found[:10]))

    for protocol, (field, _, _) in DISSECTED.items():
        expected = narrated_commands(trace, protocol)
        shown = dissected_commands(binary, capture, field)
        if shown != expected:
            problems.append(f"{protocol}: the narration shows {expected}\n    but tshark shows {shown}")
        elif expected:
            print(f"  {protocol}: {' '.join(shown)}")
    expected = narrated_commands(trace, "lmtp")
    if expected:
        shown = dissected_commands(binary, capture, "smtp.req.command", "smtp.req.command && tcp.port == 24",
                                   "-d", "tcp.port==24,smtp")
        if shown != expected:
            problems.append(f"lmtp decoded as SMTP: the narration shows {expected}\n    but tshark shows {shown}")
        else:
            print(f"  lmtp (decoded as SMTP): {' '.join(shown)}")
    return problems


def main(arguments):
    if len(arguments) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mailsim, binary, scenarios = arguments[0], arguments[1], arguments[2:]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="mailsim-pcap-") as directory:
        os.environ["WIRESHARK_CONFIG_DIR"] = directory
        for scenario in scenarios:
            print(f"{scenario}")
            problems = check_scenario(mailsim, binary, scenario, directory)
            for problem in problems:
                print(f"  FAIL {problem}")
            failed += 1 if problems else 0
    print(f"{len(scenarios) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
