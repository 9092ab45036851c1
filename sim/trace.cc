#include "sim/trace.h"

#include <cstdio>
#include <cstring>

#include "sim/prng.h"

namespace replsim::sim {

namespace {
inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}
}  // namespace

namespace {
inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  return k ^ (k >> 33);
}
inline uint64_t fold(uint64_t h, uint64_t w) {
  w *= 0x87c37b91114253d5ull;
  w = rotl64(w, 31);
  w *= 0x4cf5ad432745937full;
  h ^= w;
  return rotl64(h, 27) * 5 + 0x52dce729;
}
}  // namespace

uint64_t payload_digest(std::string_view bytes) {
  const char* p = bytes.data();
  const size_t n = bytes.size();
  uint64_t a = 0x243f6a8885a308d3ull ^ n;  // two lanes for instruction-level parallelism
  uint64_t b = 0x13198a2e03707344ull;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p + i, 8);
    std::memcpy(&w1, p + i + 8, 8);
    a = fold(a, w0);
    b = fold(b, w1);
  }
  uint64_t tail[2] = {0, 0};
  std::memcpy(tail, p + i, n - i);
  a = fold(a, tail[0]);
  b = fold(b, tail[1]);
  return fmix64(a ^ rotl64(b, 17));
}

uint64_t Trace::kind_hash(const char* kind) {
  KindCache& c = kind_cache_[(reinterpret_cast<uintptr_t>(kind) >> 3) % kKindCacheSize];
  if (c.kind != kind) {
    c.kind = kind;
    c.hash = fnv1a64(std::string_view(kind, std::strlen(kind)));
  }
  return c.hash;
}

void Trace::record(TimeUs time_us, uint32_t node, const char* kind, uint64_t digest) {
  uint64_t h = mix(hash_, static_cast<uint64_t>(time_us));
  h = mix(h, node);
  h = mix(h, kind_hash(kind));
  hash_ = mix(h, digest);
  ++count_;
  if (keep_) events_.push_back({time_us, node, kind, digest});
}

std::string describe(const TraceEvent& e) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "t=%lldus node=%u kind=%s digest=%016llx",
                static_cast<long long>(e.time_us), e.node, e.kind,
                static_cast<unsigned long long>(e.digest));
  return buf;
}

std::optional<size_t> first_divergence(const std::vector<TraceEvent>& a,
                                       const std::vector<TraceEvent>& b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    const bool same = a[i].time_us == b[i].time_us && a[i].node == b[i].node &&
                      std::strcmp(a[i].kind, b[i].kind) == 0 && a[i].digest == b[i].digest;
    if (!same) return i;
  }
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

std::string divergence_report(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b) {
  const std::optional<size_t> i = first_divergence(a, b);
  if (!i) return "no divergence";
  std::string out = "first divergent event #" + std::to_string(*i) + ": run A: ";
  out += *i < a.size() ? describe(a[*i]) : "(ended)";
  out += "; run B: ";
  out += *i < b.size() ? describe(b[*i]) : "(ended)";
  if (*i > 0) out += "; last common: " + describe(a[*i - 1]);
  return out;
}

void FaultRecorder::record(TimeUs time_us, std::string kind, std::string target,
                           std::string detail) {
  faults_.push_back({time_us, std::move(kind), std::move(target), std::move(detail)});
}

size_t FaultRecorder::count(std::string_view kind) const {
  size_t n = 0;
  for (const FaultRecord& f : faults_) n += f.kind == kind;
  return n;
}

}  // namespace replsim::sim
