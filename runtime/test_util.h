// runtime/test_util.h — helpers for runtime tests: run an io_context until a predicate holds.
#pragma once

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

namespace replsim::runtime::testing {

// Runs `io` (on this thread) until pred() or `max` wall time passed; returns pred().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds max) {
  const auto end = std::chrono::steady_clock::now() + max;
  while (!pred() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(2));
    if (io.stopped()) io.restart();
  }
  return pred();
}

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("replsim-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace replsim::runtime::testing
