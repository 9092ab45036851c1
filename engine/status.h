// Status and Result<T>: how operating errors travel between layers.
//
// Operating errors (I/O failure, bad input, a peer gone, a full disk) are values, never
// exceptions across layers. Programmer errors are REPLSIM_ASSERT (engine/assert.h).
// A Status that is dropped unread is a bug, so both types are [[nodiscard]].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/assert.h"

namespace replsim {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kCorruption,        // a checksum or structural check failed; the message names where
  kIoError,           // the disk or the OS refused (fsync failure, sector error)
  kNoSpace,           // disk full: the operation did nothing, earlier state is intact
  kInvalidArgument,   // bad input from a user or a file
  kPermissionDenied,  // bad or foreign token, missing activation token
  kUnavailable,       // peer unreachable, not active, not the primary
  kTimeout,           // a bounded wait ran out
  kTooOld,            // asked for a WAL index older than the oldest retained
  kFenced,            // a stale lock generation or epoch was refused
  kAborted,           // the operation was cancelled (shutdown, crash of the caller)
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status no_space(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status permission_denied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status too_old(std::string m) { return {StatusCode::kTooOld, std::move(m)}; }
  static Status fenced(std::string m) { return {StatusCode::kFenced, std::move(m)}; }
  static Status aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IoError: fsync of store.log failed" — what a person reads.
  std::string to_string() const;

  // Marks a status as deliberately not acted on (documents the decision at the call site).
  void ignore() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    REPLSIM_ASSERT(!status_.is_ok());
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() {
    REPLSIM_ASSERT(value_.has_value());
    return *value_;
  }
  const T& value() const {
    REPLSIM_ASSERT(value_.has_value());
    return *value_;
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

// Returns early from the enclosing function when `expr` is not ok.
#define REPLSIM_RETURN_IF_ERROR(expr)                     \
  do {                                                    \
    ::replsim::Status replsim_status_ = (expr);           \
    if (!replsim_status_.is_ok()) return replsim_status_; \
  } while (0)

}  // namespace replsim
