// replsim: run scenarios of the deterministic multi-datacenter replication simulator.
// See docs/scenarios.md and docs/reports.md.
#include <unistd.h>

#include <climits>
#include <iostream>
#include <string>

#include "cli/commands.h"

namespace {

constexpr const char* kHelp =
    "usage: replsim <verb> [args]   (replsim <verb> --help for details)\n"
    "  run FILE [--seed N] [--report DIR] [--trace FILE] [--history FILE]\n"
    "        run one scenario; print the summary; exit 1 when a checker fails\n"
    "  swarm FILE --seeds A..B [--jobs N] [--shard I/N] [--json OUT] [--junit OUT.xml]\n"
    "        [--results FILE.jsonl [--resume]]\n"
    "        many seeds in parallel processes; every failing seed with its reproduction\n"
    "  merge A.json|A.jsonl B.json|B.jsonl ... [--json OUT] [--junit OUT.xml]\n"
    "        combine swarm shards' results; refuse mixed builds; list missing seeds\n"
    "  check-determinism FILE [--seed N]\n"
    "        run twice; on a trace mismatch print the first divergent event\n"
    "  list [DIR]\n"
    "        the scenario library with one-line descriptions\n";

// The path of this executable, so swarm children and reproduction commands use the same
// binary however it was invoked.
std::string self_path(const char* argv0) {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return argv0;
  return std::string(buffer, static_cast<size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace replsim::cli;
  if (argc < 2) return std::cerr << kHelp, 2;
  const std::string verb = argv[1];
  Args args(argv + 2, argv + argc);
  // Reproduction lines name the binary as it was invoked (relative paths stay short).
  const std::string shown = argv[0];
  if (verb == "--help" || verb == "-h" || verb == "help") return std::cout << kHelp, 0;
  if (verb == "run") return run_command(shown, args);
  if (verb == "swarm") return swarm_command(self_path(argv[0]), args);
  if (verb == "merge") return merge_command(args);
  if (verb == "check-determinism") return check_determinism_command(args);
  if (verb == "list") return list_command(args);
  std::cerr << "replsim: unknown verb \"" << verb << "\"\n" << kHelp;
  return 2;
}
