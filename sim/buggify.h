// BUGGIFY for the simulated world, as FoundationDB does it.
//
// A site is a name in the engine where a run may force a rare path (an early WAL GC, a tiny
// buffer, a slow flush). Each site is enabled or not once per run with probability
// kSiteEnableProbability, decided by hashing (seed, site name): the decision does not depend
// on the order in which sites are first reached. An enabled site then fires per call with
// probability kFireProbability, drawn from the Buggify's own PRNG stream. A world option
// turns buggify off entirely (every call returns false). Outside simulation buggify is always
// false (runtime/ answers it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sim/prng.h"

namespace replsim::sim {

class Buggify {
 public:
  static constexpr double kSiteEnableProbability = 0.25;
  static constexpr double kFireProbability = 0.25;

  struct SiteStats {
    bool enabled = false;
    uint64_t calls = 0;
    uint64_t fired = 0;
  };

  // `prng` is the firing stream; `seed` decides which sites are enabled.
  Buggify(uint64_t seed, Prng prng, bool on);

  // True when the run forces the rare path at `site` this time.
  bool fire(std::string_view site);
  // Whether `site` is enabled in this run (pure function of seed and name; false when off).
  bool site_enabled(std::string_view site) const;
  bool on() const { return on_; }

  // Every site reached so far, by name (for reports).
  const std::map<std::string, SiteStats, std::less<>>& sites() const { return sites_; }
  uint64_t fired_total() const { return fired_total_; }

 private:
  uint64_t seed_;
  Prng prng_;
  bool on_;
  uint64_t fired_total_ = 0;
  std::map<std::string, SiteStats, std::less<>> sites_;
};

}  // namespace replsim::sim
