// The simulator's splittable PRNG and its own distributions.
//
// xoshiro256** seeded through SplitMix64. child(stream) derives an independent stream from this
// generator's *seed* and a stream id (not from draws consumed), so adding draws to one component
// never shifts another component's stream. Distributions are implemented here, not taken from
// <random>, because std:: distributions differ between standard libraries.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/env.h"

namespace replsim::sim {

uint64_t splitmix64(uint64_t* state);
// 64-bit FNV-1a, for naming streams and digesting payloads.
uint64_t fnv1a64(std::string_view bytes, uint64_t basis = 0xcbf29ce484222325ull);

class Prng final : public Random {
 public:
  explicit Prng(uint64_t seed);

  uint64_t seed() const { return seed_; }
  uint64_t next_u64() override;

  // An independent stream for a component, stable whatever else draws from this one.
  Prng child(uint64_t stream_id) const;
  Prng child(std::string_view stream_name) const { return child(fnv1a64(stream_name)); }

  // Exponential with the given mean (>= 0).
  double exponential(double mean);
  // Normal (Box–Muller, one value per call).
  double normal(double mean, double stddev);

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

// Zipf over ranks [1, n] with exponent s > 0, by rejection-inversion (Hörmann & Derflinger),
// O(1) per draw for any n. Rank 1 is the most frequent.
class Zipf {
 public:
  Zipf(uint64_t n, double s);
  uint64_t sample(Random& random) const;
  uint64_t n() const { return n_; }

 private:
  double h(double x) const;
  double h_inverse(double x) const;
  double helper1(double x) const;
  double helper2(double x) const;

  uint64_t n_;
  double s_;
  double h_integral_x1_;
  double h_integral_n_;
  double threshold_;
};

}  // namespace replsim::sim
