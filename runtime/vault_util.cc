#include "runtime/vault_util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <set>

#include "engine/assert.h"

namespace replsim::runtime {

namespace {
std::string hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}
}  // namespace

std::string token_storage_path(const std::string& token) {
  return std::string(kTokensPrefix) + sha256_hex("vault-token|" + token);
}

std::string format_index_state(const proto::IndexState& s) {
  return std::to_string(s.epoch()) + ":" + std::to_string(s.wal_index());
}

std::optional<proto::IndexState> parse_index_state(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  uint64_t epoch = 0;
  uint64_t index = 0;
  auto a = std::from_chars(text.data(), text.data() + colon, epoch);
  auto b = std::from_chars(text.data() + colon + 1, text.data() + text.size(), index);
  if (colon == 0 || a.ec != std::errc() || a.ptr != text.data() + colon) return std::nullopt;
  if (b.ec != std::errc() || b.ptr != text.data() + text.size()) return std::nullopt;
  proto::IndexState s;
  s.set_epoch(epoch);
  s.set_wal_index(index);
  return s;
}

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339(int64_t unix_us) {
  const std::time_t secs = static_cast<std::time_t>(unix_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%06lldZ", static_cast<long long>(unix_us % 1000000));
  return std::string(buf) + frac;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  REPLSIM_ASSERT(
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) == 1);
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

std::string random_uuid() {
  const std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REPLSIM_ASSERT(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) == 1);
  return hex(md, n);
}

std::string pbkdf2_hex(std::string_view password, std::string_view salt, uint32_t iterations) {
  unsigned char out[32];
  REPLSIM_ASSERT(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                   reinterpret_cast<const unsigned char*>(salt.data()),
                                   static_cast<int>(salt.size()), static_cast<int>(iterations),
                                   EVP_sha256(), sizeof(out), out) == 1);
  return hex(out, sizeof(out));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string> one_level(const std::vector<std::string>& keys, std::string_view prefix) {
  std::set<std::string> names;
  for (const std::string& k : keys) {
    if (k.size() <= prefix.size() || k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = k.substr(prefix.size());
    const size_t slash = rest.find('/');
    names.insert(slash == std::string::npos ? rest : rest.substr(0, slash + 1));
  }
  return {names.begin(), names.end()};
}

}  // namespace replsim::runtime
