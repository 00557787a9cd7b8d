#!/usr/bin/env python3
"""Transcript tests: the dialogue of a scenario's first connection, line by
line, against an expected transcript kept as data (one "C: ..." or
"S: ..." line per protocol line).

Usage: test-transcripts.py MAILSIM SCENARIO_FOLDER TRANSCRIPT_FOLDER

Each TRANSCRIPT_FOLDER/NAME.txt is compared with the first connection of
SCENARIO_FOLDER/NAME.mailsim, and NAME@N.txt with its connection N."""

import json
import os
import subprocess
import sys
import tempfile

MAILSIM, SCENARIOS, TRANSCRIPTS = sys.argv[1:4]
results = []

for name in sorted(os.listdir(TRANSCRIPTS)):
    if not name.endswith(".txt"):
        continue
    stem, _, number = name[:-4].partition("@")
    connection = int(number) if number else 1
    scenario = os.path.join(SCENARIOS, stem + ".mailsim")
    with open(os.path.join(TRANSCRIPTS, name)) as expected_file:
        expected = [line.rstrip("\n") for line in expected_file if not line.startswith("#")]
    with tempfile.TemporaryDirectory() as work:
        trace = os.path.join(work, "trace.jsonl")
        done = subprocess.run([MAILSIM, "run", "--quiet", "--json", trace, scenario],
                              capture_output=True, text=True, timeout=60)
        with open(trace) as lines:
            events = [json.loads(line) for line in lines]
    actual = []
    for event in events:
        if event["kind"] == "data" and event.get("connection") == connection:
            actual.extend(event["summary"])
    ok = done.returncode == 0 and actual == expected
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        print("  exit %d; first difference:" % done.returncode)
        for number, (want, got) in enumerate(zip(expected + ["<end>"] * len(actual), actual + ["<end>"] * len(expected))):
            if want != got:
                print("  line %d\n    expected: %s\n    actual:   %s" % (number + 1, want, got))
                break

print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
sys.exit(0 if results and all(results) else 1)
