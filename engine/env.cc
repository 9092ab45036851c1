#include "engine/env.h"

namespace replsim {

uint64_t Random::uniform(uint64_t n) {
  REPLSIM_ASSERT(n > 0);
  // Lemire-free rejection: discard draws from the incomplete last block.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x = next_u64();
  while (x >= limit) x = next_u64();
  return x % n;
}

int64_t Random::uniform_range(int64_t lo, int64_t hi) {
  REPLSIM_ASSERT(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (span == 0) return static_cast<int64_t>(next_u64());  // the full 64-bit range
  return lo + static_cast<int64_t>(uniform(span));
}

double Random::uniform_double() {
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

bool Random::bernoulli(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return uniform_double() < p;
}

void Random::fill_bytes(size_t n, std::string* out) {
  out->resize(n);
  size_t i = 0;
  while (i < n) {
    uint64_t x = next_u64();
    for (int b = 0; b < 8 && i < n; ++b, ++i) {
      (*out)[i] = static_cast<char>(x & 0xff);
      x >>= 8;
    }
  }
}

}  // namespace replsim
