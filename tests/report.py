#!/usr/bin/env python3
"""The test cases of a tests/run.sh run, from Criterion's JSON reports.

  report.py add RESULTS NAME BACKEND RC TIMEOUT REPORT [--filtered]
      Read the report (--json=REPORT) of binary NAME, which exited RC,
      append its test cases to RESULTS, print "N ok, N failed, N skipped"
      and exit 1 if the binary failed: a test case failed, or there is no
      readable report (crash, timeout), or RC is not 0 though no case failed.
  report.py fail RESULTS NAME BACKEND REASON
      Append a failure that is no test case (a mount left behind, servers
      that did not start, ...).
  report.py summary RESULTS
      Print every skipped test case with its reason, every failure, then
      the line "summary: N passed, N failed, N skipped" last (CI reads it);
      exit 1 if anything failed.

RESULTS has one tab-separated line per test case: STATUS (passed, failed or
skipped), NAME, BACKEND ("" for unit tests), CASE (suite::test, "" for a
failure of no test case), MESSAGE.
"""
import json
import re
import sys

# Criterion 2.4.1 writes the report from printf templates and does not
# escape strings: a message with a quote, a backslash or (in a skip) a
# newline makes the file invalid JSON.  Suite and test names are C
# identifiers, so only the "messages" arrays can break; re-encode them from
# the template's layout (src/io/json.c): a failure has one message a line,
# indented 12; a skip, crash or timeout has one message on the same line.
MESSAGES = re.compile(r'"messages": \[(.*?)\]\n {8}\}', re.S)

# What Criterion says of a test it did not run: .disabled, cr_skip_test()
# without a message, or left out by --filter (all alike in every format).
NOT_RUN = "The test was skipped."


def _reencode(m):
    inner = m.group(1)
    if inner.startswith("\n"):
        lines = [l.lstrip(" ") for l in inner.split("\n")[1:-1]]
        lines = [l for l in lines if l]
        msgs = [l[1:-2] if i < len(lines) - 1 else l[1:-1]
                for i, l in enumerate(lines)]
    else:
        msgs = [inner[1:-1]]
    return '"messages": %s\n        }' % json.dumps(msgs)


def load(path):
    """The test cases of a report, [(suite::test, status, [messages])]."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        doc = json.loads(text, strict=False)
    except ValueError:
        doc = json.loads(MESSAGES.sub(_reencode, text), strict=False)
    return [(s["name"] + "::" + t["name"], t["status"], t.get("messages", []))
            for s in doc["test_suites"] for t in s["tests"]]


def one_line(msgs, limit=300):
    """The first message (what a failed assertion says first), one line."""
    text = " ".join(msgs[0].split()) if msgs else ""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def exit_status(rc, timeout):
    if rc == 124:
        return "timed out after %ss (TEST_TIMEOUT)" % timeout
    if rc > 128:
        return "killed by signal %d" % (rc - 128)
    return "exit %d" % rc


def record(out, status, name, backend, case, msg):
    msg = " ".join(msg.split())  # no tab or newline in a field
    out.write("\t".join([status, name, backend, case, msg]) + "\n")


def add(results, name, backend, rc, timeout, report, filtered=False):
    rc = int(rc)
    n = {"passed": 0, "failed": 0, "skipped": 0, "not run": 0}
    with open(results, "a") as out:
        try:
            cases = load(report)
        except FileNotFoundError:
            cases, why = None, "no report from Criterion"
        except Exception as e:  # anything unexpected in it, too
            cases, why = None, "unreadable report %s (%s)" % (report, e)
        if cases is None:
            record(out, "failed", name, backend, "",
                   "%s: %s" % (why, exit_status(rc, timeout)))
            print("no report")
            return 1
        for case, status, msgs in cases:
            if status == "PASSED":
                st, msg = "passed", ""
            elif status == "SKIPPED":
                if filtered and msgs == [NOT_RUN]:
                    n["not run"] += 1
                    continue
                st, msg = "skipped", one_line(msgs) or NOT_RUN
            else:  # FAILED, ERRORED (crashed, timed out)
                st, msg = "failed", one_line(msgs) or "no message"
            n[st] += 1
            record(out, st, name, backend, case, msg)
        bad = n["failed"] > 0
        if rc != 0 and not bad:
            record(out, "failed", name, backend, "",
                   "%s, though no test case failed" % exit_status(rc, timeout))
            bad = True
    counts = "%d ok, %d failed, %d skipped" % (
        n["passed"], n["failed"], n["skipped"])
    if n["not run"]:
        counts += ", %d left out by --filter" % n["not run"]
    print(counts)
    return 1 if bad else 0


def passed(results, name, backend, case):
    """One check that ran outside Criterion (a fuzz target) and passed."""
    with open(results, "a") as out:
        record(out, "passed", name, backend, case, "")
    return 0


def fail(results, name, backend, reason):
    with open(results, "a") as out:
        record(out, "failed", name, backend, "", reason)
    return 0


def summary(results):
    try:
        with open(results) as f:
            rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    except FileNotFoundError:
        rows = []
    n = {"passed": 0, "failed": 0, "skipped": 0}
    for st, *_ in rows:
        n[st] += 1
    print()
    print("==== summary")
    for want, word in (("skipped", "skipped"), ("failed", "FAILED ")):
        for st, name, backend, case, msg in rows:
            if st != want:
                continue
            where = name + (" (backend %s)" % backend if backend else "")
            where += " " + case if case else ""
            print("%s %s: %s" % (word, where, msg))
    print("summary: %d passed, %d failed, %d skipped"
          % (n["passed"], n["failed"], n["skipped"]))
    return 1 if n["failed"] else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "add":
        filtered = "--filtered" in args
        args = [a for a in args if a != "--filtered"]
        sys.exit(add(*args, filtered=filtered))
    sys.exit({"pass": passed, "fail": fail, "summary": summary}[cmd](*args))
