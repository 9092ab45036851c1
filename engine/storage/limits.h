// What a client may store: the documented limits, enforced at the engine's edge.
//
// The node checks every client write and delete with validate_write / validate_path where the
// request enters the engine (NodeImpl::handle_client), before it is sealed, forwarded or
// written, and answers kInvalidArgument (HTTP 400, or 413 for sizes, at the API). A request
// exactly at a limit is accepted and works end to end (write, replicate, merkle-sync,
// recover); below the edge nothing refuses or aborts on data within these limits.
//
//   path         1 .. kPathBytesMax (8,192) bytes of valid UTF-8 without NUL. 8 KiB is twice
//                a 4 KiB page (the merkle index stores paths whole, spanning overflow frames)
//                and far above real Vault paths; UTF-8 because paths travel in protobuf
//                `string` fields, which a receiver refuses to parse otherwise (binary data
//                belongs in values). No NUL: paths are also file-like names in the HTTP API.
//   value        0 .. kValueBytesMax (512 KiB) bytes of plaintext (any bytes). Consul's value
//                limit, a common Vault storage bound; Vault's own 32 MiB request body is the
//                transaction bound below. The stored ciphertext adds the barrier's overhead.
//   transaction  at most kTransactionMutationsMax mutations and kTransactionBytesMax (32 MiB,
//                Vault's default max_request_size) of paths plus values. A client request is
//                one mutation today; multi-key operations must check the whole transaction.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/storage/store.h"

namespace replsim::limits {

constexpr size_t kPathBytesMax = 8 * 1024;
constexpr size_t kValueBytesMax = 512 * 1024;
constexpr size_t kTransactionBytesMax = 32 * 1024 * 1024;
constexpr size_t kTransactionMutationsMax = 4096;

// kInvalidArgument naming the limit, else ok.
[[nodiscard]] Status validate_path(std::string_view path);
[[nodiscard]] Status validate_value(std::string_view value);
// A put of `value` at `path` (a one-mutation transaction).
[[nodiscard]] Status validate_write(std::string_view path, std::string_view value);
// Every mutation's path (and value, for puts), and the transaction's totals.
[[nodiscard]] Status validate_transaction(const std::vector<Mutation>& mutations);

}  // namespace replsim::limits
