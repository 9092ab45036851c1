#!/usr/bin/env python3
"""replsim's tidy check: the layering and style rules the build enforces.

Rules (each proven by a planted violation in scripts/tidy_test.py):
  layering   no non-test file under engine/ includes sim/, runtime/ or Boost
  seam       no wall clock, OS randomness, threads or getenv in engine/ and sim/ (time,
             randomness, messages and files come only through engine/env.h)
  format     every C++ file under the source folders is clang-format clean
  length     no function in engine/ or sim/ is longer than 100 lines

Usage: scripts/tidy.py [--root DIR] [--rule NAME ...] [--clang-format BIN]
Prints one line per violation (file:line: rule: message) and exits 1 if there is any.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

SOURCE_DIRS = ["engine", "sim", "runtime", "cli", "reports", "bench", "property_tests",
               "scenarios", "fuzz"]
FUNCTION_LINES_MAX = 100

SEAM_BANNED = [
    (r"\bstd::chrono::(system_clock|steady_clock|high_resolution_clock)\b", "wall clock"),
    (r"\b(gettimeofday|clock_gettime)\s*\(", "wall clock"),
    (r"(?<![\w:.>])time\s*\(\s*(nullptr|NULL|0)\s*\)", "wall clock"),
    (r"\bstd::random_device\b", "OS randomness"),
    (r"(?<![\w:.>])s?rand\s*\(", "OS randomness"),
    (r"/dev/u?random|\bgetrandom\s*\(|\bRAND_bytes\s*\(", "OS randomness"),
    (r"\bstd::(thread|jthread|async)\b|\bpthread_create\b", "threads"),
    (r"\b(std::)?(getenv|secure_getenv)\s*\(", "getenv"),
]


def cxx_files(root, dirs):
    for d in dirs:
        base = os.path.join(root, d)
        for dirpath, _, names in os.walk(base):
            for n in sorted(names):
                if n.endswith((".cc", ".h")):
                    yield os.path.join(dirpath, n)


def is_test_file(path):
    name = os.path.basename(path)
    return (name.endswith(("_test.cc", "_test_util.h", "_test_env.h"))
            or "/testing/" in path.replace(os.sep, "/"))


def strip_comments_and_strings(text):
    """Blanks comments and string/char literals, keeping newlines (line numbers stay right)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text[i:j].count("\n"))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_layering(root, report):
    pattern = re.compile(r'^\s*#\s*include\s*[<"](sim/|runtime/|boost/)')
    for path in cxx_files(root, ["engine"]):
        if is_test_file(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                if pattern.search(line):
                    report(path, no, "layering",
                           "engine/ must not include sim/, runtime/ or Boost: " + line.strip())


def check_seam(root, report):
    banned = [(re.compile(p), what) for p, what in SEAM_BANNED]
    for path in cxx_files(root, ["engine", "sim"]):
        with open(path, encoding="utf-8", errors="replace") as f:
            code = strip_comments_and_strings(f.read())
        for no, line in enumerate(code.split("\n"), 1):
            for rx, what in banned:
                if rx.search(line):
                    report(path, no, "seam", f"{what} outside engine/env.h: {line.strip()}")


SCOPE_KEYWORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try)\b")


def function_spans(code):
    """Yields (first_line, last_line, header) of each function body: a `{` opened directly in
    a namespace, class or file scope whose header has a parameter list."""
    stack = []  # entries: "scope", "function", "block"
    header_start = 0
    line = 1
    opened_at = []
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            header = code[header_start:i]
            in_scope = all(k == "scope" for k in stack)
            flat = " ".join(header.split())
            if in_scope and SCOPE_KEYWORDS.search(flat) and not flat.endswith(")"):
                kind = "scope"
            elif in_scope and ")" in flat and not CONTROL.match(flat) and not flat.endswith("="):
                kind = "function"
            else:
                kind = "block"
            stack.append(kind)
            opened_at.append((line, flat))
            header_start = i + 1
        elif c == "}":
            if stack:
                kind = stack.pop()
                start, flat = opened_at.pop()
                if kind == "function":
                    yield start, line, flat
            header_start = i + 1
        elif c == ";":
            header_start = i + 1
        elif c == ":" and stack and stack[-1] == "scope":
            # "public:" and friends end a header inside a class.
            if re.search(r"\b(public|private|protected)\s*$", code[header_start:i]):
                header_start = i + 1
        elif c == "#" and code[header_start:i].strip() == "":
            pass
    return


def check_length(root, report):
    for path in cxx_files(root, ["engine", "sim"]):
        with open(path, encoding="utf-8", errors="replace") as f:
            code = strip_comments_and_strings(f.read())
        # Preprocessor lines end headers the way a ';' does.
        code = re.sub(r"(?m)^\s*#.*$", lambda m: ";" + " " * (len(m.group(0)) - 1), code)
        for start, end, header in function_spans(code):
            lines = end - start + 1
            if lines > FUNCTION_LINES_MAX:
                name = header[-80:]
                report(path, start, "length",
                       f"function of {lines} lines (max {FUNCTION_LINES_MAX}): {name}")


def check_format(root, report, clang_format):
    if not clang_format:
        report(root, 0, "format", "clang-format not found (scripts/bootstrap installs it)")
        return
    files = list(cxx_files(root, SOURCE_DIRS))
    for k in range(0, len(files), 50):
        chunk = files[k:k + 50]
        res = subprocess.run([clang_format, "--dry-run", "--style=file"] + chunk,
                             cwd=root, capture_output=True, text=True)
        seen = set()
        for msg in res.stderr.splitlines():
            m = re.match(r"^(.*?):(\d+):\d+: (warning|error):", msg)
            if m and m.group(1) not in seen:
                seen.add(m.group(1))
                report(m.group(1), int(m.group(2)), "format",
                       "not clang-format clean (run `make format`)")


RULES = {
    "layering": lambda root, report, cf: check_layering(root, report),
    "seam": lambda root, report, cf: check_seam(root, report),
    "format": check_format,
    "length": lambda root, report, cf: check_length(root, report),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--rule", action="append", choices=sorted(RULES))
    ap.add_argument("--clang-format", default=shutil.which("clang-format"))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    violations = []

    def report(path, line, rule, message):
        rel = os.path.relpath(path, root) if os.path.isabs(path) else path
        violations.append(f"{rel}:{line}: {rule}: {message}")

    for rule in args.rule or sorted(RULES):
        RULES[rule](root, report, args.clang_format)
    for v in violations:
        print(v)
    print(f"tidy: {len(violations)} violation(s)", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
