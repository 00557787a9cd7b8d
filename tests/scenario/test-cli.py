#!/usr/bin/env python3
"""The command line as CI uses it: exit codes of `mailsim run` and
`mailsim check`, the JUnit report, the traces written by --json, and the
determinism of the JSON trace.

Usage: test-cli.py MAILSIM SCENARIO_FOLDER"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

MAILSIM, FOLDER = sys.argv[1], sys.argv[2]
FIRST = os.path.join(FOLDER, "first-email.mailsim")
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else ": " + str(detail)[-800:]), flush=True)


def run(*args):
    done = subprocess.run([MAILSIM, *args], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


with tempfile.TemporaryDirectory() as work:
    failing = os.path.join(work, "failing.mailsim")
    with open(FIRST) as original, open(failing, "w") as out:
        # The same story, with one expectation that cannot hold.
        out.write(original.read().replace("bounced none", "bounced 3"))
    broken = os.path.join(work, "broken.mailsim")
    with open(broken, "w") as out:
        out.write('title "broken"\nnode a { kind mta; address 10.0.0.1 }\nlink a b\n')

    code, out, err = run("run", "--quiet", FIRST)
    check("run: all expectations hold -> exit 0", code == 0 and "7 passed, 0 failed" in out, (code, out, err))
    code, out, err = run("run", "--quiet", failing)
    check("run: a failed expectation -> exit 1", code == 1 and "6 passed, 1 failed" in out, (code, out))
    code, out, err = run("run", broken)
    check("run: a bad file -> exit 2 with file:line:column",
          code == 2 and "broken.mailsim:3:8: unknown node 'b'" in err, (code, err))
    garbage = os.path.join(work, "garbage.mailsim")
    with open(garbage, "wb") as out_file:
        out_file.write(b'title "x"\nnode a {\x00\xff\xfe binary')
    code, out, err = run("run", garbage)
    check("run: binary garbage -> exit 2 with file:line:column", code == 2 and "garbage.mailsim:2:" in err, (code, err))
    truncated = os.path.join(work, "truncated.mailsim")
    with open(FIRST) as original, open(truncated, "w") as out_file:
        out_file.write(original.read()[:1500])
    code, out, err = run("run", truncated)
    check("run: a truncated file -> exit 2 with file:line:column", code == 2 and "truncated.mailsim:" in err, (code, err))
    code, out, err = run("run", os.path.join(work, "missing.mailsim"))
    check("run: a missing file -> exit 2", code == 2 and "missing.mailsim" in err, (code, err))

    code, out, err = run("check", FIRST)
    check("check: one line per scenario and a closing count", code == 0 and out.splitlines()[-1] == "1 passed, 0 failed",
          out)
    junit = os.path.join(work, "report.xml")
    traces = os.path.join(work, "traces")
    code, out, err = run("check", "--junit", junit, "--json", traces, FIRST, failing)
    check("check: a failing scenario -> exit 1", code == 1 and out.splitlines()[-1] == "1 passed, 1 failed", out)
    check("check: the failure explains itself", "expected 3, the run had 0" in out, out)
    report = ElementTree.parse(junit).getroot()
    check("check --junit: counts", report.get("tests") == "14" and report.get("failures") == "1"
          and report.get("errors") == "0", ElementTree.tostring(report)[:300])
    failures = report.findall(".//failure")
    check("check --junit: the failing testcase names its line", len(failures) == 1
          and "expected 3" in failures[0].get("message"), [f.attrib for f in failures])
    check("check --json: one trace per scenario", sorted(os.listdir(traces)) == ["failing.mailsim.jsonl",
                                                                                "first-email.mailsim.jsonl"])
    code, out, err = run("check", FIRST, broken)
    check("check: an unreadable file -> exit 2", code == 2 and "ERROR" in out and "1 passed, 1 failed" in out, out)

    first_json = os.path.join(work, "a.jsonl")
    second_json = os.path.join(work, "b.jsonl")
    run("run", "--quiet", "--json", first_json, FIRST)
    run("run", "--quiet", "--json", second_json, FIRST)
    with open(first_json, "rb") as a, open(second_json, "rb") as b:
        first, second = a.read(), b.read()
    check("run --json: same scenario and seed, same bytes", len(first) > 10000 and first == second)
    run("run", "--quiet", "--seed", "99", "--json", second_json, FIRST)
    with open(second_json, "rb") as b:
        check("run --seed: another seed still runs the story", b'"status":"delivered"' in b.read())

    # Fingerprints: stable, the same for every seed (no fault here depends on
    # chance), pinned by --update-fingerprints, and a change is reported with
    # the events that differ.
    code, out, err = run("fingerprint", FIRST)
    first_fingerprint = out.split()[0] if out else ""
    code2, out2, err2 = run("fingerprint", "--seed", "12345", FIRST)
    check("fingerprint: 16 hex digits, the same for another seed",
          code == 0 and len(first_fingerprint) == 16 and out2.split()[0] == first_fingerprint, (out, out2, err))
    pinned = os.path.join(work, "pinned.mailsim")
    with open(FIRST) as original, open(pinned, "w") as out_file:
        out_file.write(original.read())
    code, out, err = run("check", "--update-fingerprints", pinned)
    with open(pinned) as pinned_file:
        pinned_text = pinned_file.read()
    check("check --update-fingerprints pins the fingerprint and keeps the events",
          code == 0 and ("fingerprint " + first_fingerprint + "\n") in pinned_text
          and os.path.exists(os.path.join(work, "fingerprints", "pinned.mailsim.events")), (out, err))
    code, out, err = run("check", pinned)
    check("check: a pinned, unchanged scenario passes", code == 0 and "fingerprint " + first_fingerprint in out, out)
    with open(pinned, "w") as out_file:
        out_file.write(pinned_text.replace("latency 20ms", "latency 25ms", 1))
    code, out, err = run("check", pinned)
    check("check: a change of behaviour fails with the first differing events",
          code == 1 and "behaviour changed" in out and "event " in out and " was: " in out and " now: " in out, out)

    # The sequence diagram, for handouts.
    svg = os.path.join(work, "flow.svg")
    png = os.path.join(work, "flow.png")
    code, out, err = run("diagram", FIRST, "-o", svg, "--to", "3s")
    with open(svg, encoding="utf-8") as drawing:
        text = drawing.read()
    check("diagram: an SVG with a column per node", code == 0 and text.startswith("<?xml") and "<svg" in text, err)
    code, out, err = run("diagram", FIRST, "-o", png, "--only", "smtp")
    with open(png, "rb") as drawing:
        check("diagram: a PNG", code == 0 and drawing.read(8) == b"\x89PNG\r\n\x1a\n", err)
    code, out, err = run("diagram", FIRST, "-o", os.path.join(work, "flow.gif"))
    check("diagram: an unknown format is refused with exit 2", code == 2 and ".svg, .pdf or .png" in err, err)

print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
sys.exit(0 if all(results) else 1)
