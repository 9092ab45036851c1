// runtime/posix_fs.h — Env's FileSystem and File over one real directory (POSIX calls).
//
// Contract, as engine/env.h states it, mapped onto the OS:
// - write/append/sync/sync_dir run synchronously (pwrite, fsync, fsync of the directory) and
//   report through `post`, which must queue the callback to run later on the engine's thread:
//   a callback never runs inside the call that issued it.
// - read/size/truncate/rename/remove/list act at once (the OS page cache).
// - The engine's flat names ("store/data.log") map to single files in the one directory:
//   '/' is escaped as "%2F" and '%' as "%25", so list() and sync_dir() cover every file.
// - Errors are values: ENOSPC/EDQUOT → kNoSpace, anything else → kIoError with the path and
//   strerror. A write refused for a full disk leaves the file's size as it was (an extension
//   that was partly written is truncated back), so a full disk is never a crash.
// - Not thread-safe: one engine thread uses it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/env.h"

namespace replsim::runtime {

// Queues `fn` to run later on the engine's thread.
using PostFn = std::function<void(std::function<void()> fn)>;

class PosixFileSystem : public FileSystem {
 public:
  // `dir` must exist (see create_directory). `post` outlives the file system.
  PosixFileSystem(std::string dir, PostFn post);

  // Creates `dir` (and parents) when missing.
  static Status create_directory(const std::string& dir);

  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override;
  bool exists(const std::string& path) const override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  void sync_dir(IoCallback done) override;
  std::vector<std::string> list(const std::string& prefix) const override;

  const std::string& dir() const { return dir_; }
  // The escaped on-disk path of engine name `path`.
  std::string os_path(const std::string& path) const;

 private:
  std::string dir_;
  PostFn post_;
};

// Engine name ↔ directory entry name.
std::string escape_file_name(const std::string& name);
std::string unescape_file_name(const std::string& name);

}  // namespace replsim::runtime
