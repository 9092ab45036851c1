#!/usr/bin/env python3
"""End-to-end test of the swarm's CI and scale features through build/bin/replsim.

usage: swarm_e2e_test.py REPLSIM WORK_DIR XMLLINT CTEST
Proves, each with a planted bad case:
  JUnit     `swarm/merge --junit` validates against cli/testdata/junit.xsd (xmllint); a failing
            seed's <failure> names the checker, its message (and first offending event when
            the run has one) and the reproduce command; a crashed run is an <error>; missing
            seeds are <skipped>; files made invalid on purpose are rejected by the schema;
            ctest's own --output-junit file (what `make test` writes) validates too.
  journal   --results appends one line per seed; a killed swarm resumes with --resume and
            ends seed for seed equal (verdict, trace hash) to an uninterrupted swarm; a torn
            last line is dropped and rerun; a corrupt middle line is refused with FILE:LINE;
            an existing journal without --resume, or of another shard or build, is refused.
  merge     refuses another build, another scenario content, another seed range and one seed
            with two outcomes; reports missing seeds (exit 3); accepts journals.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import xml.etree.ElementTree as etree

REPLSIM, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
XMLLINT, CTEST = sys.argv[3], sys.argv[4]
HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(HERE, "testdata", "tiny.textproto")
SCHEMA = os.path.join(HERE, "testdata", "junit.xsd")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
ENV = dict(os.environ, TMPDIR=WORK)  # the swarm's scratch files stay in WORK
failures = []
passes = []


def check(condition, what):
    print("ok  " if condition else "FAIL", what)
    (passes if condition else failures).append(what)


def path(name):
    return os.path.join(WORK, name)


def run(*args, binary=REPLSIM):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=240, env=ENV)
    return p.returncode, p.stdout, p.stderr


def outcomes(result_file):
    """seed -> (passed, trace_hash) of a --json result."""
    seeds = json.load(open(result_file))["seeds"]
    return {int(s["seed"]): (s.get("passed", False), s.get("trace_hash")) for s in seeds}


def valid(xml_file):
    """xmllint (libxml2) validates the file against the schema: exit 0 only when valid."""
    p = subprocess.run([XMLLINT, "--noout", "--schema", SCHEMA, xml_file], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        print(p.stderr.strip()[:300])
    return p.returncode == 0


def write_scenario(name, old, new):
    text = open(TINY).read()
    check(old in text, f"{name}: tiny.textproto holds {old!r}")
    open(path(name), "w").write(text.replace(old, new))
    return path(name)


# ---- JUnit: passing, failing (a real checker failure) and crashed seeds ----
FAIL = write_scenario("fail.textproto", "convergence_bound_s: 10", "convergence_bound_s: 0.001")
code, out, err = run("swarm", FAIL, "--seeds", "1..3", "--jobs", "2", "--junit", path("f.xml"),
                     "--json", path("f.json"))
check(code == 1, f"a swarm with failing seeds exits 1 ({code}) {err}")
check(valid(path("f.xml")), "JUnit of failing seeds validates against junit.xsd")
tree = etree.parse(path("f.xml"))
cases = tree.findall(".//testcase")
check([c.get("name") for c in cases] == ["seed 1", "seed 2", "seed 3"], "one testcase per seed")
check(all(c.get("classname") == "replsim.fail" for c in cases), "classname names the scenario")
code1, _, _ = run("run", FAIL, "--seed", "1", "--summary-json", path("seed1.json"))
summary = json.load(open(path("seed1.json")))
failed_checkers = [c for c in summary["checkers"] if not c.get("passed")]
check(code1 == 1 and failed_checkers, "the planted bound makes seed 1 fail a checker")
failure = cases[0].find("failure")
check(failure is not None, "a failing seed has a <failure>")
if failure is not None and failed_checkers:
    first = failed_checkers[0]
    check(first["name"] in failure.get("message") and first["message"] in failure.get("message"),
          "the failure message names the checker and its message")
    check(f"checker: {first['name']}" in failure.text, "the failure text names the checker")
    if first.get("first_offending_event"):
        check(first["first_offending_event"] in failure.text, "first offending event in text")
    check(f"reproduce: {REPLSIM} run {FAIL} --seed 1" in failure.text,
          "the failure text holds the reproduce command")
suite = tree.find("testsuite")
check(suite.get("tests") == "3" and suite.get("failures") == str(len(tree.findall(".//failure"))),
      "testsuite counts match its testcases")

BAD = write_scenario("broken.textproto", "workload {", "workload { no_such_field: 1 ")
code, out, err = run("swarm", BAD, "--seeds", "1..2", "--jobs", "2", "--junit", path("b.xml"))
check(code == 1 and valid(path("b.xml")), f"a swarm of crashed runs writes valid JUnit ({code})")
errors = etree.parse(path("b.xml")).findall(".//error")
check(len(errors) == 2 and all("no_such_field" in e.text for e in errors),
      "a run that could not run is an <error> holding its output")

# Planted invalid files: the schema must reject each one.
good = open(path("f.xml")).read()
planted = {
    "testcase without a name": good.replace('<testcase name="seed 2"', "<testcase", 1),
    "a count that is not a number": good.replace('tests="3"', 'tests="three"', 1),
    "failure outside a testcase": good.replace("<properties>", "<failure message='x'/><properties>"),
    "unknown element": good.replace("</testsuite>", "<seed/></testsuite>"),
    "not well-formed": good.replace("</testsuites>", ""),
}
for what, text in planted.items():
    bad = path("planted.xml")
    open(bad, "w").write(text)
    check(not valid(bad), f"the schema rejects a planted invalid file: {what}")

# ctest's JUnit (make test's build/ctest-junit.xml) from a two-test project, one failing.
project = path("ctest_project")
os.makedirs(project)
open(os.path.join(project, "CTestTestfile.cmake"), "w").write(
    "add_test(passes /bin/true)\nadd_test(fails /bin/false)\n")
subprocess.run([CTEST, "--test-dir", project, "--output-junit", path("ctest.xml")],
               capture_output=True, timeout=60)
ctest_xml = etree.parse(path("ctest.xml"))
check(valid(path("ctest.xml")) and len(ctest_xml.findall(".//testcase")) == 2,
      "ctest --output-junit validates against junit.xsd")

# ---- journal: kill a swarm mid-way, resume, compare with an uninterrupted one ----
SEEDS = "1..8"
code, _, err = run("swarm", TINY, "--seeds", SEEDS, "--jobs", "2", "--json", path("whole.json"))
check(code in (0, 1) and len(outcomes(path("whole.json"))) == 8, f"uninterrupted swarm {err}")
journal = path("killed.jsonl")
p = subprocess.Popen([REPLSIM, "swarm", TINY, "--seeds", SEEDS, "--jobs", "1", "--results",
                      journal], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
                     start_new_session=True)
deadline = time.time() + 60
while time.time() < deadline and p.poll() is None:
    if os.path.exists(journal) and open(journal).read().count("\n") >= 3:
        break
    time.sleep(0.05)
os.killpg(p.pid, signal.SIGKILL)  # the swarm and the child it was running
p.wait()
done_before = open(journal).read().count("\n")
check(3 <= done_before < 8, f"the killed swarm had journaled {done_before} of 8 seeds")
code, _, err = run("swarm", TINY, "--seeds", SEEDS, "--results", journal, "--json", path("r.json"))
check(code == 2 and "--resume" in err, "an existing journal without --resume is refused")
code, out, err = run("swarm", TINY, "--seeds", SEEDS, "--jobs", "2", "--results", journal,
                     "--resume", "--json", path("resumed.json"))
check(code in (0, 1), f"resume runs ({code}) {err}")
check(outcomes(path("resumed.json")) == outcomes(path("whole.json")),
      "killed + resumed equals uninterrupted, seed for seed (verdict, trace hash)")
lines = open(journal).read().splitlines()
check(len(lines) == 8 and sorted(int(json.loads(l)["seeds"][0]["seed"]) for l in lines) ==
      list(range(1, 9)), "the journal holds each seed once; resume ran only the missing ones")

# Torn last line: cut the journal inside its last line.
torn = path("torn.jsonl")
text = open(journal).read()
open(torn, "w").write(text[: len(text) - 40])
code, out, err = run("swarm", TINY, "--seeds", SEEDS, "--jobs", "2", "--results", torn,
                     "--resume", "--json", path("torn.json"))
check(code in (0, 1) and "torn last line" in err, f"a torn last line is dropped ({err})")
check(outcomes(path("torn.json")) == outcomes(path("whole.json")), "torn + resume is complete")
check(all(json.loads(l) for l in open(torn).read().splitlines()), "the journal parses after")

# A corrupt line that is not the last is corruption: refused, nothing is run or overwritten.
corrupt = path("corrupt.jsonl")
good_lines = text.splitlines(keepends=True)
open(corrupt, "w").write(good_lines[0] + "{not json\n" + "".join(good_lines[1:]))
before = open(corrupt).read()
code, _, err = run("swarm", TINY, "--seeds", SEEDS, "--results", corrupt, "--resume")
check(code == 2 and f"{corrupt}:2:" in err, f"a corrupt middle line is refused with FILE:LINE")
check(open(corrupt).read() == before, "the refused journal is left as it was")

code, _, err = run("swarm", TINY, "--seeds", SEEDS, "--shard", "1/2", "--results", journal,
                   "--resume")
check(code == 2 and "another --shard" in err, "resuming another shard's journal is refused")

# Another build: the same binary with one byte appended (still runs, other SHA-256).
other_build = path("replsim-other")
shutil.copy(REPLSIM, other_build)
with open(other_build, "ab") as f:
    f.write(b"\0")
code, _, err = run("swarm", TINY, "--seeds", SEEDS, "--results", journal, "--resume",
                   binary=other_build)
check(code == 2 and "another build" in err, f"resuming with another build is refused ({err})")

# Disk full (/dev/full: every write fails with ENOSPC): a clear error, exit 2, no crash.
code, _, err = run("swarm", TINY, "--seeds", "1..3", "--jobs", "1", "--results", "/dev/full")
check(code == 2 and "disk full" in err and "--resume" in err, f"disk full is an error ({err})")

# ---- merge: refusals and missing seeds ----
shards = []
for i in range(3):
    shards.append(path(f"s{i}.json"))
    run("swarm", TINY, "--seeds", "1..9", "--jobs", "2", "--shard", f"{i}/3", "--json", shards[i])
code, out, err = run("merge", shards[0], shards[1], "--json", path("m01.json"),
                     "--junit", path("m01.xml"))
merged = json.load(open(path("m01.json")))
check(code in (1, 3) and merged.get("missing_seeds") == ["3", "6", "9"],
      f"merge of 2 of 3 shards reports seeds 3, 6, 9 missing ({code}, {merged.get('missing_seeds')})")
check("MISSING seeds (no result): 3, 6, 9" in out, "merge prints the missing seeds")
xml = etree.parse(path("m01.xml"))
check(valid(path("m01.xml")) and len(xml.findall(".//skipped")) == 3,
      "missing seeds are <skipped> testcases in valid JUnit")
code, out, _ = run("merge", *shards, "--json", path("m.json"))
check(code in (0, 1) and "MISSING" not in out and not json.load(open(path("m.json")))
      .get("missing_seeds"), "all 3 shards merge with no seed missing")
check({k: v for k, v in outcomes(path("m.json")).items() if k <= 8} ==
      outcomes(path("whole.json")), "3 shards of 1..9 agree with the whole swarm on 1..8")

code, _, err = run("merge", shards[0], shards[0], shards[1], shards[2])
check(code in (0, 1), "the same shard twice counts once")

other_scenario = write_scenario("tiny_copy.textproto", "# A tiny scenario", "# A copied scenario")
run("swarm", other_scenario, "--seeds", "1..9", "--shard", "1/3", "--json", path("o.json"))
code, _, err = run("merge", shards[0], path("o.json"))
check(code == 2 and "another scenario file" in err, f"merge refuses another scenario ({err})")

run("swarm", TINY, "--seeds", "1..9", "--shard", "1/3", "--json", path("ob.json"),
    binary=other_build)
code, _, err = run("merge", shards[0], path("ob.json"))
check(code == 2 and "another build" in err, f"merge refuses another build ({err})")

run("swarm", TINY, "--seeds", "1..10", "--shard", "1/3", "--json", path("or.json"))
code, _, err = run("merge", shards[0], path("or.json"))
check(code == 2 and "another seed range" in err, f"merge refuses another range ({err})")

forged = json.load(open(shards[1]))
forged["seeds"][0]["trace_hash"] = "0000000000000000"
json.dump(forged, open(path("forged.json"), "w"))
code, _, err = run("merge", shards[1], path("forged.json"))
check(code == 2 and "another outcome" in err, f"merge refuses one seed with two outcomes ({err})")

code, out, err = run("merge", journal, path("torn.jsonl"), "--json", path("mj.json"))
check(code in (0, 1) and outcomes(path("mj.json")) == outcomes(path("whole.json")),
      f"merge reads journals ({err})")

print(f"{len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
