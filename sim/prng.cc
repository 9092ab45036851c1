#include "sim/prng.h"

#include <cmath>

#include "engine/assert.h"

namespace replsim::sim {

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(std::string_view bytes, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Prng::Prng(uint64_t seed) : seed_(seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = splitmix64(&state);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Prng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Prng Prng::child(uint64_t stream_id) const {
  uint64_t state = seed_ ^ (stream_id * 0xd1342543de82ef95ull);
  splitmix64(&state);
  return Prng(splitmix64(&state) ^ stream_id);
}

double Prng::exponential(double mean) {
  REPLSIM_ASSERT(mean >= 0.0);
  if (mean == 0.0) return 0.0;
  return -mean * std::log1p(-uniform_double());
}

double Prng::normal(double mean, double stddev) {
  double u1 = uniform_double();
  while (u1 <= 0.0) u1 = uniform_double();
  const double u2 = uniform_double();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return mean + stddev * z;
}

// --- Zipf: rejection-inversion sampling (as in Apache Commons RNG) ---

Zipf::Zipf(uint64_t n, double s) : n_(n), s_(s) {
  REPLSIM_ASSERT(n >= 1);
  REPLSIM_ASSERT(s > 0.0);
  h_integral_x1_ = h(1.5) - 1.0;
  h_integral_n_ = h(static_cast<double>(n) + 0.5);
  threshold_ = 2.0 - h_inverse(h(2.5) - std::exp(-s_ * std::log(2.0)));
}

double Zipf::helper1(double x) const {  // log1p(x) / x, stable near 0
  return std::fabs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

double Zipf::helper2(double x) const {  // expm1(x) / x, stable near 0
  return std::fabs(x) > 1e-8 ? std::expm1(x) / x
                             : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

double Zipf::h(double x) const {
  const double log_x = std::log(x);
  return helper2((1.0 - s_) * log_x) * log_x;
}

double Zipf::h_inverse(double x) const {
  double t = x * (1.0 - s_);
  if (t < -1.0) t = -1.0;
  return std::exp(helper1(t) * x);
}

uint64_t Zipf::sample(Random& random) const {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const double u = h_integral_n_ + random.uniform_double() * (h_integral_x1_ - h_integral_n_);
    const double x = h_inverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0) k = 1.0;
    if (k > static_cast<double>(n_)) k = static_cast<double>(n_);
    if (k - x <= threshold_ || u >= h(k + 0.5) - std::exp(-std::log(k) * s_)) {
      return static_cast<uint64_t>(k);
    }
  }
  return 1;  // unreachable in practice: acceptance probability is high
}

}  // namespace replsim::sim
