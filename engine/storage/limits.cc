#include "engine/storage/limits.h"

#include <google/protobuf/stubs/common.h>

#include <string>

namespace replsim::limits {

Status validate_path(std::string_view path) {
  if (path.empty()) return Status::invalid_argument("path is empty");
  if (path.size() > kPathBytesMax) {
    return Status::invalid_argument("path of " + std::to_string(path.size()) +
                                    " bytes exceeds the limit of " + std::to_string(kPathBytesMax));
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status::invalid_argument("path contains a NUL byte");
  }
  // The check protobuf applies when it parses a `string` field (the path's wire type).
  if (!google::protobuf::internal::IsStructurallyValidUTF8(path.data(),
                                                           static_cast<int>(path.size()))) {
    return Status::invalid_argument("path is not valid UTF-8");
  }
  return Status::ok();
}

Status validate_value(std::string_view value) {
  if (value.size() > kValueBytesMax) {
    return Status::invalid_argument("value of " + std::to_string(value.size()) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(kValueBytesMax));
  }
  return Status::ok();
}

Status validate_write(std::string_view path, std::string_view value) {
  REPLSIM_RETURN_IF_ERROR(validate_path(path));
  return validate_value(value);
}

Status validate_transaction(const std::vector<Mutation>& mutations) {
  if (mutations.size() > kTransactionMutationsMax) {
    return Status::invalid_argument("transaction of " + std::to_string(mutations.size()) +
                                    " mutations exceeds the limit of " +
                                    std::to_string(kTransactionMutationsMax));
  }
  size_t bytes = 0;
  for (const Mutation& m : mutations) {
    REPLSIM_RETURN_IF_ERROR(validate_path(m.path));
    if (!m.deleted) REPLSIM_RETURN_IF_ERROR(validate_value(m.value));
    bytes += m.path.size() + m.value.size();
  }
  if (bytes > kTransactionBytesMax) {
    return Status::invalid_argument("transaction of " + std::to_string(bytes) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(kTransactionBytesMax));
  }
  return Status::ok();
}

}  // namespace replsim::limits
