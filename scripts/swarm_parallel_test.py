#!/usr/bin/env python3
"""scripts/swarm_parallel with GNU parallel: 4 shards on this host, merged, equal seed for seed
(verdict and trace hash) to one `replsim swarm` over the same seeds.

usage: swarm_parallel_test.py REPO_DIR REPLSIM WORK_DIR
Also: the merged JUnit names every seed, the merge saw all 4 shards and no seed is missing, and
the comparison itself is shown able to fail (a planted different trace hash is caught).
"""
import json
import os
import shutil
import subprocess
import sys

REPO, REPLSIM, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
SCENARIO = os.path.join(REPO, "cli", "testdata", "tiny.textproto")
SEEDS, FIRST, LAST = "1..12", 1, 12
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
ENV = dict(os.environ, TMPDIR=WORK)
results = {"passed": 0, "failed": 0}


def check(condition, what):
    print("ok  " if condition else "FAIL", what)
    results["passed" if condition else "failed"] += 1


def by_seed(result):
    return {int(s["seed"]): (s.get("passed", False), s["trace_hash"]) for s in result["seeds"]}


def differences(a, b):
    return [seed for seed in sorted(set(a) | set(b)) if a.get(seed) != b.get(seed)]


out = os.path.join(WORK, "parallel")
p = subprocess.run([os.path.join(REPO, "scripts", "swarm_parallel"), SCENARIO, "--seeds", SEEDS,
                    "--shards", "4", "--replsim", REPLSIM, "--out", out],
                   capture_output=True, text=True, timeout=240, env=ENV)
print(p.stdout, p.stderr)
check(p.returncode in (0, 1), f"swarm_parallel exits 0 or 1 ({p.returncode})")
merged = json.load(open(os.path.join(out, "merged.json")))
check(sorted(merged["shards"]) == ["0/4", "1/4", "2/4", "3/4"], "the merge saw 4 shards")
check(not merged.get("missing_seeds"), "no seed is missing")
joblog = open(os.path.join(out, "joblog")).read().splitlines()[1:]
check(len(joblog) == 4, "GNU parallel ran 4 jobs (its joblog)")

single_path = os.path.join(WORK, "single.json")
p = subprocess.run([REPLSIM, "swarm", SCENARIO, "--seeds", SEEDS, "--jobs", "2", "--json",
                    single_path], capture_output=True, text=True, timeout=240, env=ENV)
check(p.returncode in (0, 1), f"the single swarm runs ({p.returncode})")
single = json.load(open(single_path))
check(set(by_seed(single)) == set(range(FIRST, LAST + 1)), "the single swarm ran seeds 1..12")
diff = differences(by_seed(merged), by_seed(single))
check(not diff, f"merged == single, seed for seed: verdict and trace hash (differ: {diff})")
check(merged["build_id"] == single["build_id"], "both ran the same build")
check((merged.get("passed", 0), merged.get("failed", 0)) ==
      (single.get("passed", 0), single.get("failed", 0)), "same passed/failed counts")

planted = by_seed(single)
planted[FIRST] = (planted[FIRST][0], "0" * 16)
check(differences(by_seed(merged), planted) == [FIRST], "the comparison catches a planted hash")

junit = open(os.path.join(out, "junit.xml")).read()
check(all(f'name="seed {s}"' in junit for s in range(FIRST, LAST + 1)), "JUnit names every seed")

print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
