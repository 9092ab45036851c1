#include "engine/storage/barrier.h"

#include <openssl/evp.h>

#include <memory>

#include "engine/base/coding.h"

namespace replsim {
namespace {

constexpr uint8_t kCiphertextVersion = 1;
constexpr uint8_t kKeyringVersion = 1;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The authenticated data: the ciphertext header (version, term), then the path.
bool add_aad(EVP_CIPHER_CTX* ctx, std::string_view header, std::string_view path) {
  int len = 0;
  if (EVP_CipherUpdate(ctx, nullptr, &len, bytes(header), static_cast<int>(header.size())) != 1) {
    return false;
  }
  return EVP_CipherUpdate(ctx, nullptr, &len, bytes(path), static_cast<int>(path.size())) == 1;
}

}  // namespace

struct Barrier::CipherCache {
  struct Contexts {
    CtxPtr encrypt;
    CtxPtr decrypt;
  };
  std::map<uint32_t, Contexts> by_term;

  // A context for `term` with the cipher, the nonce length and `key` set; a call then only
  // sets its nonce (EVP keeps the key schedule when re-initialised with the key omitted).
  EVP_CIPHER_CTX* keyed(uint32_t term, const std::string& key, bool encrypt) {
    Contexts& c = by_term[term];
    CtxPtr& ctx = encrypt ? c.encrypt : c.decrypt;
    if (ctx == nullptr) {
      ctx.reset(EVP_CIPHER_CTX_new());
      REPLSIM_ASSERT(ctx != nullptr);
      const int enc = encrypt ? 1 : 0;
      int ok = EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, enc);
      ok &= EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kBarrierNonceBytes, nullptr);
      ok &= EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, bytes(key), nullptr, enc);
      REPLSIM_ASSERT(ok == 1);
    }
    return ctx.get();
  }
};

Barrier::Barrier(Keyring keyring, Random& random)
    : keyring_(std::move(keyring)), random_(random), cache_(std::make_unique<CipherCache>()) {}

Barrier::~Barrier() = default;

void Barrier::install(Keyring keyring) {
  keyring_ = std::move(keyring);
  cache_->by_term.clear();  // a term may name another key in the new keyring
}

Keyring Keyring::generate(Random& random) {
  Keyring ring;
  ring.rotate(random);
  return ring;
}

void Keyring::add_key(uint32_t term, std::string key) {
  REPLSIM_ASSERT(key.size() == kBarrierKeyBytes);
  REPLSIM_ASSERT(term > 0);
  REPLSIM_ASSERT(term > active_term_);
  keys_[term] = std::move(key);
  active_term_ = term;
}

uint32_t Keyring::rotate(Random& random) {
  std::string key;
  random.fill_bytes(kBarrierKeyBytes, &key);
  const uint32_t term = active_term_ + 1;
  add_key(term, std::move(key));
  return term;
}

const std::string* Keyring::key(uint32_t term) const {
  auto it = keys_.find(term);
  return it == keys_.end() ? nullptr : &it->second;
}

std::string Keyring::serialize() const {
  std::string out;
  out.push_back(static_cast<char>(kKeyringVersion));
  put_fixed32(&out, active_term_);
  put_varint64(&out, keys_.size());
  for (const auto& [term, key] : keys_) {
    put_fixed32(&out, term);
    out.append(key);
  }
  return out;
}

Result<Keyring> Keyring::parse(std::string_view in_bytes) {
  ByteReader in(in_bytes);
  uint8_t version = 0;
  uint32_t active = 0;
  uint64_t count = 0;
  if (!in.get_u8(&version) || version != kKeyringVersion) {
    return Status::corruption("keyring: bad version");
  }
  if (!in.get_fixed32(&active) || !in.get_varint64(&count)) {
    return Status::corruption("keyring: truncated header");
  }
  Keyring ring;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t term = 0;
    std::string_view key;
    if (!in.get_fixed32(&term) || !in.get_bytes(kBarrierKeyBytes, &key)) {
      return Status::corruption("keyring: truncated key");
    }
    if (term == 0 || term <= ring.active_term_) return Status::corruption("keyring: bad term");
    ring.add_key(term, std::string(key));
  }
  if (!in.empty()) return Status::corruption("keyring: trailing bytes");
  if (ring.active_term_ != active) return Status::corruption("keyring: bad active term");
  return ring;
}

std::string Barrier::encrypt(std::string_view path, std::string_view plaintext) {
  const uint32_t term = keyring_.active_term();
  REPLSIM_ASSERT_MSG(term > 0, "barrier has no key");
  const std::string* key = keyring_.key(term);
  REPLSIM_ASSERT(key != nullptr);

  std::string out;
  out.reserve(kBarrierOverheadBytes + plaintext.size());
  out.push_back(static_cast<char>(kCiphertextVersion));
  put_fixed32(&out, term);
  std::string nonce;
  random_.fill_bytes(kBarrierNonceBytes, &nonce);
  out.append(nonce);

  EVP_CIPHER_CTX* ctx = cache_->keyed(term, *key, /*encrypt=*/true);
  int ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, bytes(nonce));
  REPLSIM_ASSERT(ok == 1);
  REPLSIM_ASSERT(add_aad(ctx, std::string_view(out).substr(0, 5), path));
  const size_t body_at = out.size();
  out.resize(body_at + plaintext.size() + kBarrierTagBytes);
  auto* body = reinterpret_cast<unsigned char*>(out.data() + body_at);
  int len = 0;
  ok = EVP_EncryptUpdate(ctx, body, &len, bytes(plaintext), static_cast<int>(plaintext.size()));
  REPLSIM_ASSERT(ok == 1);
  REPLSIM_ASSERT(static_cast<size_t>(len) == plaintext.size());
  int final_len = 0;
  REPLSIM_ASSERT(EVP_EncryptFinal_ex(ctx, body + len, &final_len) == 1);
  REPLSIM_ASSERT(final_len == 0);
  REPLSIM_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kBarrierTagBytes,
                                     body + plaintext.size()) == 1);
  return out;
}

Result<uint32_t> Barrier::term_of(std::string_view ciphertext) {
  if (ciphertext.size() < kBarrierOverheadBytes) {
    return Status::corruption("barrier: ciphertext too short");
  }
  if (static_cast<uint8_t>(ciphertext[0]) != kCiphertextVersion) {
    return Status::corruption("barrier: unknown ciphertext version");
  }
  return decode_fixed32(ciphertext.data() + 1);
}

Result<std::string> Barrier::decrypt(std::string_view path, std::string_view ciphertext) const {
  Result<uint32_t> term = term_of(ciphertext);
  if (!term.is_ok()) return term.status();
  const std::string* key = keyring_.key(*term);
  if (key == nullptr) {
    return Status::not_found("barrier: unknown key term " + std::to_string(*term));
  }
  const std::string_view nonce = ciphertext.substr(5, kBarrierNonceBytes);
  const size_t body_bytes = ciphertext.size() - kBarrierOverheadBytes;
  const std::string_view body = ciphertext.substr(kBarrierHeaderBytes, body_bytes);
  std::string tag(ciphertext.substr(kBarrierHeaderBytes + body_bytes));

  EVP_CIPHER_CTX* ctx = cache_->keyed(*term, *key, /*encrypt=*/false);
  int ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, bytes(nonce));
  REPLSIM_ASSERT(ok == 1);
  REPLSIM_ASSERT(add_aad(ctx, ciphertext.substr(0, 5), path));
  std::string out(body_bytes, '\0');
  int len = 0;
  ok = EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, bytes(body),
                         static_cast<int>(body.size()));
  REPLSIM_ASSERT(ok == 1);
  REPLSIM_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kBarrierTagBytes, tag.data()) == 1);
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &final_len) !=
      1) {
    return Status::corruption("barrier: value at '" + std::string(path) +
                              "' failed authentication (wrong path or key, or tampered)");
  }
  return out;
}

}  // namespace replsim
