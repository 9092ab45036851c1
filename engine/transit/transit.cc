// Transit key records and AES-256-GCM encryption in Vault's ciphertext format.
#include "engine/transit/transit.h"

#include <openssl/evp.h>

#include <charconv>
#include <memory>

#include "engine/assert.h"

namespace replsim::transit {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

const proto::TransitKeyVersion* find_version(const proto::TransitKey& key, uint32_t v) {
  for (const auto& kv : key.versions()) {
    if (kv.version() == v) return &kv;
  }
  return nullptr;
}

// nonce | ciphertext | tag under `key_bytes`, with `aad` authenticated.
std::string seal(std::string_view key_bytes, std::string_view nonce, std::string_view plaintext,
                 std::string_view aad) {
  REPLSIM_ASSERT(key_bytes.size() == kKeyBytes);
  REPLSIM_ASSERT(nonce.size() == kNonceBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  REPLSIM_ASSERT(ctx != nullptr);
  std::string out(nonce);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  REPLSIM_ASSERT(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_bytes),
                                    bytes(nonce)) == 1);
  if (!aad.empty()) {
    REPLSIM_ASSERT(
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1);
  }
  REPLSIM_ASSERT(EVP_EncryptUpdate(ctx.get(), dst, &len, bytes(plaintext),
                                   static_cast<int>(plaintext.size())) == 1);
  REPLSIM_ASSERT(static_cast<size_t>(len) == plaintext.size());
  REPLSIM_ASSERT(EVP_EncryptFinal_ex(ctx.get(), dst + len, &len) == 1);
  REPLSIM_ASSERT(
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + plaintext.size()) == 1);
  return out;
}

Result<std::string> open(std::string_view key_bytes, std::string_view sealed,
                         std::string_view aad) {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Status::invalid_argument("ciphertext too short");
  }
  const std::string_view nonce = sealed.substr(0, kNonceBytes);
  const std::string_view body = sealed.substr(kNonceBytes, sealed.size() - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  REPLSIM_ASSERT(ctx != nullptr);
  std::string out(body.size(), '\0');
  int len = 0;
  REPLSIM_ASSERT(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_bytes),
                                    bytes(nonce)) == 1);
  if (!aad.empty()) {
    REPLSIM_ASSERT(
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1);
  }
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  REPLSIM_ASSERT(
      EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(body), static_cast<int>(body.size())) == 1);
  REPLSIM_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1);
  if (EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) != 1) {
    return Status::corruption("cipher: message authentication failed");
  }
  return out;
}

struct Parsed {
  uint32_t version = 0;
  std::string sealed;
};

Result<Parsed> parse(std::string_view ciphertext) {
  constexpr std::string_view kPrefix = "vault:v";
  if (ciphertext.substr(0, kPrefix.size()) != kPrefix) {
    return Status::invalid_argument("invalid ciphertext: no prefix");
  }
  std::string_view rest = ciphertext.substr(kPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument("invalid ciphertext: no version");
  }
  Parsed p;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + colon, p.version);
  if (ec != std::errc() || ptr != rest.data() + colon || p.version == 0) {
    return Status::invalid_argument("invalid ciphertext: bad version");
  }
  Result<std::string> sealed = base64_decode(rest.substr(colon + 1));
  if (!sealed.is_ok()) return sealed.status();
  p.sealed = std::move(*sealed);
  return p;
}

}  // namespace

std::string key_path(std::string_view name) { return std::string(kKeysPrefix) + std::string(name); }

Status validate_key_name(std::string_view name) {
  if (name.empty() || name.size() > kKeyNameBytesMax) {
    return Status::invalid_argument("transit key name must be 1.." +
                                    std::to_string(kKeyNameBytesMax) + " bytes");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok)
      return Status::invalid_argument("transit key name has a character outside [A-Za-z0-9_.-]");
  }
  return Status::ok();
}

uint32_t latest_version(const proto::TransitKey& key) {
  return key.versions().empty() ? 0 : key.versions(key.versions_size() - 1).version();
}

Result<proto::TransitKey> create_key(std::string_view name, std::string_view type, Random& random,
                                     TimeUs now_us) {
  REPLSIM_RETURN_IF_ERROR(validate_key_name(name));
  if (!type.empty() && type != kKeyType) {
    return Status::invalid_argument("unsupported key type \"" + std::string(type) +
                                    "\" (only aes256-gcm96)");
  }
  proto::TransitKey key;
  key.set_name(std::string(name));
  key.set_type(std::string(kKeyType));
  key.set_min_decryption_version(1);
  return rotate_key(std::move(key), random, now_us);
}

Result<proto::TransitKey> rotate_key(proto::TransitKey key, Random& random, TimeUs now_us) {
  if (static_cast<size_t>(key.versions_size()) >= kKeyVersionsMax) {
    return Status::invalid_argument("key has " + std::to_string(kKeyVersionsMax) +
                                    " versions, the most kept");
  }
  const uint32_t next = latest_version(key) + 1;
  proto::TransitKeyVersion* v = key.add_versions();
  v->set_version(next);
  std::string material;
  random.fill_bytes(kKeyBytes, &material);
  REPLSIM_ASSERT(material.size() == kKeyBytes);
  v->set_key(std::move(material));
  v->set_created_us(now_us);
  REPLSIM_ASSERT(latest_version(key) == next);
  return key;
}

Result<proto::TransitKey> configure_key(proto::TransitKey key, uint32_t min_decryption_version,
                                        bool deletion_allowed) {
  if (min_decryption_version != 0) {
    if (min_decryption_version > latest_version(key)) {
      return Status::invalid_argument(
          "min_decryption_version " + std::to_string(min_decryption_version) +
          " is above the latest version " + std::to_string(latest_version(key)));
    }
    key.set_min_decryption_version(min_decryption_version);
  }
  key.set_deletion_allowed(deletion_allowed);
  return key;
}

Result<std::string> encrypt(const proto::TransitKey& key, std::string_view plaintext,
                            std::string_view context, Random& random) {
  const uint32_t v = latest_version(key);
  if (v == 0) return Status::not_found("key has no version");
  const proto::TransitKeyVersion* kv = find_version(key, v);
  REPLSIM_ASSERT(kv != nullptr);
  std::string nonce;
  random.fill_bytes(kNonceBytes, &nonce);
  return "vault:v" + std::to_string(v) + ":" +
         base64_encode(seal(kv->key(), nonce, plaintext, context));
}

Result<std::string> decrypt(const proto::TransitKey& key, std::string_view ciphertext,
                            std::string_view context) {
  Result<Parsed> p = parse(ciphertext);
  if (!p.is_ok()) return p.status();
  const proto::TransitKeyVersion* kv = find_version(key, p->version);
  if (kv == nullptr) {
    return Status::not_found("key version unknown: v" + std::to_string(p->version) +
                             " (latest here is v" + std::to_string(latest_version(key)) + ")");
  }
  if (p->version < key.min_decryption_version()) {
    return Status::permission_denied("ciphertext version v" + std::to_string(p->version) +
                                     " is below min_decryption_version " +
                                     std::to_string(key.min_decryption_version()));
  }
  return open(kv->key(), p->sealed, context);
}

Result<std::string> rewrap(const proto::TransitKey& key, std::string_view ciphertext,
                           std::string_view context, Random& random) {
  Result<std::string> plain = decrypt(key, ciphertext, context);
  if (!plain.is_ok()) return plain.status();
  return encrypt(key, *plain, context, random);
}

Result<uint32_t> version_of(std::string_view ciphertext) {
  Result<Parsed> p = parse(ciphertext);
  if (!p.is_ok()) return p.status();
  return p->version;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in),
                                static_cast<int>(in.size()));
  REPLSIM_ASSERT(n >= 0);
  REPLSIM_ASSERT(static_cast<size_t>(n) == out.size());
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::invalid_argument("base64: length not a multiple of 4");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok)
      return Status::invalid_argument("base64: invalid character at offset " + std::to_string(i));
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text),
                                static_cast<int>(text.size()));
  if (n < 0) return Status::invalid_argument("base64: malformed input");
  REPLSIM_ASSERT(static_cast<size_t>(n) == out.size());
  out.resize(out.size() - pad);
  return out;
}

}  // namespace replsim::transit
