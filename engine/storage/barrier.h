// The encryption barrier: AES-256-GCM (OpenSSL EVP) over every stored value.
//
// Contract:
// - Ciphertext format, version 1: u8 version (1) | fixed32 key term | 12-byte nonce |
//   encrypted bytes | 16-byte GCM tag. The authenticated data is the header (version, term)
//   followed by the path, so a ciphertext moved to another path, or relabelled with another
//   term, fails to decrypt (kCorruption); a term the keyring lacks fails with kNotFound.
// - Nonces are 96 random bits from the Env random source (seeded, so simulation replays).
// - A keyring holds every key term ever used; rotate() adds a new term and makes it the one
//   that encrypts, while older terms still decrypt. The keyring serializes (serialize /
//   Keyring::parse) so a primary can hand it to a secondary at activation. The serialized form
//   holds raw keys: the caller must only send it over an authenticated, secret channel.
// - The Store stores what it is given: the caller encrypts before commit and decrypts after
//   get, so storage, WAL entries and the wire only ever carry ciphertext.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/env.h"
#include "engine/status.h"

namespace replsim {

constexpr size_t kBarrierKeyBytes = 32;
constexpr size_t kBarrierNonceBytes = 12;
constexpr size_t kBarrierTagBytes = 16;
constexpr size_t kBarrierHeaderBytes = 1 + 4 + kBarrierNonceBytes;
constexpr size_t kBarrierOverheadBytes = kBarrierHeaderBytes + kBarrierTagBytes;

class Keyring {
 public:
  Keyring() = default;
  // A keyring with one fresh key at term 1.
  static Keyring generate(Random& random);
  // kCorruption on a malformed input.
  static Result<Keyring> parse(std::string_view bytes);
  std::string serialize() const;

  // REQUIRES: key.size() == kBarrierKeyBytes, term > active_term(), term > 0.
  void add_key(uint32_t term, std::string key);
  // Adds a fresh random key at active_term() + 1 and makes it active. Returns its term.
  uint32_t rotate(Random& random);
  // 0 when empty.
  uint32_t active_term() const { return active_term_; }
  // nullptr when the term is unknown.
  const std::string* key(uint32_t term) const;
  size_t size() const { return keys_.size(); }
  bool operator==(const Keyring&) const = default;

 private:
  std::map<uint32_t, std::string> keys_;
  uint32_t active_term_ = 0;
};

class Barrier {
 public:
  // `random` must outlive the barrier (the Env's random source).
  Barrier(Keyring keyring, Random& random);
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // REQUIRES: keyring().active_term() > 0.
  std::string encrypt(std::string_view path, std::string_view plaintext);
  // kCorruption: malformed or not authentic for this path; kNotFound: unknown key term.
  Result<std::string> decrypt(std::string_view path, std::string_view ciphertext) const;
  // The key term a ciphertext names, or kCorruption when too short to have one.
  static Result<uint32_t> term_of(std::string_view ciphertext);

  uint32_t rotate() { return keyring_.rotate(random_); }
  // Replaces the keyring (a secondary installing the primary's at activation).
  void install(Keyring keyring);
  const Keyring& keyring() const { return keyring_; }

 private:
  // Cipher contexts keyed once per key term (the AES key schedule and GCM setup are paid once;
  // each call only sets its nonce). A cache only: it never changes what a call returns.
  struct CipherCache;
  Keyring keyring_;
  Random& random_;
  std::unique_ptr<CipherCache> cache_;
};

}  // namespace replsim
