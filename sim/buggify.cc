#include "sim/buggify.h"

namespace replsim::sim {

Buggify::Buggify(uint64_t seed, Prng prng, bool on) : seed_(seed), prng_(prng), on_(on) {}

bool Buggify::site_enabled(std::string_view site) const {
  if (!on_) return false;
  uint64_t state = fnv1a64(site) ^ (seed_ * 0xd1342543de82ef95ull);
  splitmix64(&state);
  const uint64_t draw = splitmix64(&state);
  const double u = static_cast<double>(draw >> 11) * (1.0 / 9007199254740992.0);
  return u < kSiteEnableProbability;
}

bool Buggify::fire(std::string_view site) {
  if (!on_) return false;
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    it = sites_.emplace(std::string(site), SiteStats{site_enabled(site), 0, 0}).first;
  }
  SiteStats& stats = it->second;
  ++stats.calls;
  if (!stats.enabled) return false;
  if (!prng_.bernoulli(kFireProbability)) return false;
  ++stats.fired;
  ++fired_total_;
  return true;
}

}  // namespace replsim::sim
