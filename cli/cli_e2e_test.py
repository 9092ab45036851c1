#!/usr/bin/env python3
"""End-to-end test of build/bin/replsim: every verb, and the files `run` writes.

usage: cli_e2e_test.py REPLSIM SCENARIO_DIR WORK_DIR
Checks: --help on every verb; `list` names the library; `run` writes a well-formed,
self-contained report.html holding every chart, a summary.json with the schema's fields, a
Chrome trace that is valid JSON with one track per node, and a JSON Lines history; a
malformed scenario fails with FILE:LINE:COL; swarm shards merge to the whole seed range;
check-determinism agrees with itself.
"""
import html.parser
import json
import os
import subprocess
import sys

REPLSIM, SCENARIOS, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TINY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "tiny.textproto")
os.makedirs(WORK, exist_ok=True)
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([REPLSIM, *args], capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


class Balance(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.problem = [], set(), None

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k == "id")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k == "id")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f"unexpected </{tag}>"
        else:
            self.stack.pop()


for verb in ["run", "swarm", "merge", "check-determinism", "list"]:
    code, out, _ = run(verb, "--help")
    check(code == 0 and "usage: replsim " + verb in out, f"{verb} --help")

code, out, _ = run("list", SCENARIOS)
check(code == 0 and "multi_dc" in out and "standby_forwarding" in out, "list names the library")

report, trace, history = (os.path.join(WORK, n) for n in ("report", "trace.json", "h.jsonl"))
code, out, err = run("run", TINY, "--seed", "3", "--report", report, "--trace", trace,
                     "--history", history)
print(out, err)
check(code in (0, 1), f"run exits 0 or 1 (got {code})")
for word in ["simulated", "real time", "writes", "lag", "faults", "checkers", "trace hash"]:
    check(word in out, f"summary prints {word}")

page = open(os.path.join(report, "report.html")).read()
parser = Balance()
parser.feed(page)
check(parser.problem is None and not parser.stack, f"report.html balanced: {parser.problem}")
for chart in ["lag-chart", "throughput-chart", "state-bands", "fault-timeline", "checkers"]:
    check(chart in parser.ids, f"report.html holds {chart}")
check("<script" not in page and "src=" not in page, "report.html is self-contained")

summary = json.load(open(os.path.join(report, "summary.json")))
for field in ["scenario", "seed", "simulated_s", "wall_s", "speed_x_real_time", "writes",
              "reads", "lag", "faults_injected", "checkers", "trace_hash", "passed"]:
    check(field in summary, f"summary.json has {field}")
check(summary.get("seed") == "3", "summary.json seed (uint64 as a JSON string)")
check(summary.get("faults_injected", 0) >= 2, "two faults recorded")
# Exit status and reproduction line follow the checkers (the engine's health is not this
# test's subject: the scenario library's swarm runs are).
check((code == 0) == summary.get("passed"), "exit 0 exactly when every checker passed")
check(code == 0 or "reproduce: " in out and "--seed 3" in out, "a failure prints the repro")

events = json.load(open(trace))["traceEvents"]
names = {e["args"]["name"] for e in events if e.get("name") == "process_name"}
for node in ["east/0", "east/1", "west/0", "west/1", "faults"]:
    check(node in names, f"trace has a track for {node}")
check(any(e.get("ph") == "b" for e in events), "trace has request spans")
check(any(e.get("ph") == "i" for e in events), "trace has fault instants")

lines = open(history).read().splitlines()
check(len(lines) > 0 and all(json.loads(l) is not None for l in lines), "history is JSON Lines")

bad = os.path.join(WORK, "bad.textproto")
open(bad, "w").write('topology {\n  clusters { name: "a" role: PRIMARY }\n}\nworkload { rate: 1 }\n')
code, _, err = run("run", bad)
check(code == 2 and f"{bad}:4:" in err and "rate" in err, f"malformed file error: {err}")

shard_files = []
for i in range(2):
    path = os.path.join(WORK, f"shard{i}.json")
    code, out, err = run("swarm", TINY, "--seeds", "1..4", "--jobs", "2", "--shard", f"{i}/2",
                         "--json", path)
    part = json.load(open(path))
    seeds = [x["seed"] for x in part["seeds"]]
    check(seeds == [str(s) for s in range(1 + i, 5, 2)], f"shard {i}/2 ran {seeds}")
    check((code == 0) == all(x.get("passed", False) for x in part["seeds"]),
          f"swarm shard {i} exit status follows its seeds ({code})")
    check(all("reproduce" in x and "--seed" in x["reproduce"] for x in part["seeds"]),
          "every seed has a reproduction command")
    shard_files.append(path)
code, out, _ = run("merge", *shard_files, "--json", os.path.join(WORK, "merged.json"))
merged = json.load(open(os.path.join(WORK, "merged.json")))
check([s["seed"] for s in merged["seeds"]] == ["1", "2", "3", "4"],
      "merge combines shards into seeds 1..4")
check((code == 0) == (merged.get("failed", 0) == 0), "merge exit status follows the seeds")
check(merged.get("shards") == ["0/2", "1/2"], "merge records both shards")

code, out, _ = run("check-determinism", TINY, "--seed", "2")
check(code == 0 and "deterministic" in out, f"check-determinism: {out}")

print("FAILED" if failures else "OK", len(failures))
sys.exit(1 if failures else 0)
