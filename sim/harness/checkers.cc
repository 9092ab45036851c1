#include "sim/harness/checkers.h"

#include <cstdio>
#include <sstream>

namespace replsim::harness {

void scan_plaintext(std::string_view bytes, TimeUs time_us, const std::string& where,
                    Observations* obs) {
  obs->plaintext_scanned_bytes += bytes.size();
  const std::string_view marker(kPlaintextMarker);
  for (size_t at = bytes.find(marker); at != std::string_view::npos;
       at = bytes.find(marker, at + 1)) {
    if (obs->plaintext.size() >= 16) return;  // the first few are enough to report
    obs->plaintext.push_back({time_us, where, std::string(bytes.substr(at, 48))});
  }
}

std::vector<std::string> all_checker_names() {
  return {kCheckPrefixConsistency,  kCheckConvergence,
          kCheckDurability,         kCheckReadAfterWrite,
          kCheckMonotonicPositions, kCheckLocalStaysLocal,
          kCheckIndexConsistency,   kCheckBounds,
          kCheckSecurity,           kCheckIndexState,
          kCheckMerkleLoop,         kCheckLeaderStability};
}

std::vector<CheckerResult> run_checkers(const std::vector<std::string>& names, const History& h,
                                        const Observations& o, const CheckContext& c,
                                        LossWindow* loss) {
  std::vector<CheckerResult> out;
  for (const std::string& n : names.empty() ? all_checker_names() : names) {
    if (n == kCheckPrefixConsistency)
      out.push_back(check_prefix_consistency(h, o, c));
    else if (n == kCheckConvergence)
      out.push_back(check_convergence(h, o, c));
    else if (n == kCheckDurability)
      out.push_back(check_durability(h, o, c, loss));
    else if (n == kCheckReadAfterWrite)
      out.push_back(check_read_after_write(h, o, c));
    else if (n == kCheckMonotonicPositions)
      out.push_back(check_monotonic_positions(h, o, c));
    else if (n == kCheckLocalStaysLocal)
      out.push_back(check_local_stays_local(h, o, c));
    else if (n == kCheckIndexConsistency)
      out.push_back(check_index_consistency(h, o, c));
    else if (n == kCheckBounds)
      out.push_back(check_bounds(h, o, c));
    else if (n == kCheckSecurity)
      out.push_back(check_security(h, o, c));
    else if (n == kCheckIndexState)
      out.push_back(check_index_state(h, o, c));
    else if (n == kCheckMerkleLoop)
      out.push_back(check_merkle_loop(h, o, c));
    else if (n == kCheckLeaderStability)
      out.push_back(check_leader_stability(h, o, c));
    else {
      CheckerResult r;
      r.name = n;
      r.passed = false;
      r.seed = c.seed;
      r.message = "unknown checker \"" + n + "\"";
      out.push_back(r);
    }
  }
  return out;
}

std::string describe(const CheckerResult& r) {
  std::ostringstream s;
  if (r.skipped) {
    s << "SKIPPED " << r.name << ": " << r.message;
    return s.str();
  }
  if (r.passed) {
    s << "passed " << r.name << ": " << r.message;
    return s.str();
  }
  char t[32];
  std::snprintf(t, sizeof(t), "%.6f", static_cast<double>(r.event_time_us) / 1e6);
  s << "FAILED " << r.name << " at t=" << t << "s (seed " << r.seed << "): " << r.message;
  if (!r.event.empty()) s << "\n  first offending event: " << r.event;
  return s.str();
}

}  // namespace replsim::harness
