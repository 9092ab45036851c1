#!/usr/bin/env python3
"""Each tidy rule catches a violation planted on purpose, and passes the same tree without it.

Run: python3 scripts/tidy_test.py  (ctest: tidy_rules_test)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TIDY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tidy.py")
CLEAN_CC = '''// A clean file.
#include "engine/env.h"

namespace replsim {

int add(int a, int b) { return a + b; }

}  // namespace replsim
'''


def run_tidy(root, rule):
    res = subprocess.run([sys.executable, TIDY, "--root", root, "--rule", rule],
                         capture_output=True, text=True)
    return res.returncode, res.stdout


class TidyRules(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="tidy_test_")
        shutil.copy(os.path.join(os.path.dirname(TIDY), "..", ".clang-format"), self.root)
        self.write("engine/clean.cc", CLEAN_CC)
        self.write("sim/clean.cc", CLEAN_CC)

    def tearDown(self):
        shutil.rmtree(self.root)

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def assert_catches(self, rule, rel, text, needle):
        code, out = run_tidy(self.root, rule)
        self.assertEqual(code, 0, f"clean tree flagged by {rule}:\n{out}")
        self.write(rel, text)
        code, out = run_tidy(self.root, rule)
        self.assertEqual(code, 1, f"{rule} missed the planted violation in {rel}")
        self.assertIn(rel, out)
        self.assertIn(needle, out)

    def test_layering_catches_engine_including_sim(self):
        self.assert_catches("layering", "engine/bad.cc", '#include "sim/event_loop.h"\n',
                            "layering")

    def test_layering_catches_engine_including_boost(self):
        self.assert_catches("layering", "engine/x/bad.h", "#include <boost/asio.hpp>\n",
                            "layering")

    def test_layering_allows_engine_tests_to_use_the_simulator(self):
        self.write("engine/x/thing_test.cc", '#include "sim/event_loop.h"\n')
        code, out = run_tidy(self.root, "layering")
        self.assertEqual(code, 0, out)

    def test_seam_catches_wall_clock(self):
        self.assert_catches("seam", "sim/bad.cc",
                            "auto t = std::chrono::steady_clock::now();\n", "wall clock")

    def test_seam_catches_os_randomness(self):
        self.assert_catches("seam", "engine/bad.cc", "std::random_device rd;\n",
                            "OS randomness")

    def test_seam_catches_threads(self):
        self.assert_catches("seam", "engine/bad.cc", "std::thread t([] {});\n", "threads")

    def test_seam_catches_getenv(self):
        self.assert_catches("seam", "sim/bad.cc", 'const char* v = getenv("X");\n', "getenv")

    def test_seam_ignores_comments_and_strings(self):
        self.write("engine/ok.cc", '// std::thread is banned\nconst char* s = "getenv(";\n')
        code, out = run_tidy(self.root, "seam")
        self.assertEqual(code, 0, out)

    def test_format_catches_unformatted_file(self):
        self.assert_catches("format", "engine/bad.cc", "int   f( ){return 1;}\n",
                            "clang-format")

    def test_length_catches_function_over_100_lines(self):
        body = "".join(f"  x += {i};\n" for i in range(101))
        self.assert_catches("length", "sim/bad.cc",
                            "namespace a {\nint long_one(int x) {\n" + body + "  return x;\n}\n}\n",
                            "function of 104 lines")

    def test_length_allows_100_lines_and_long_classes(self):
        body = "".join(f"  x += {i};\n" for i in range(97))
        members = "".join(f"  int m{i} = {i};\n" for i in range(150))
        self.write("engine/ok.cc", "int f(int x) {\n" + body + "  return x;\n}\n"
                   "struct Big {\n" + members + "};\n")
        code, out = run_tidy(self.root, "length")
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
