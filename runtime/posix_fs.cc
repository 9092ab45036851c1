#include "runtime/posix_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace replsim::runtime {
namespace {

Status errno_status(const char* op, const std::string& path, int err) {
  std::string m = std::string(op) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::no_space(std::move(m));
  return Status::io_error(std::move(m));
}

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path, PostFn post)
      : fd_(fd), path_(std::move(path)), post_(std::move(post)) {}
  ~PosixFile() override { ::close(fd_); }

  Status read(uint64_t offset, size_t n, std::string* out) override {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        out->clear();
        return errno_status("pread", path_, errno);
      }
      if (r == 0) break;  // end of file: a short read
      got += static_cast<size_t>(r);
    }
    out->resize(got);
    return Status::ok();
  }

  void write(uint64_t offset, std::string data, IoCallback done) override {
    complete(write_now(offset, data), std::move(done));
  }

  void append(std::string data, IoCallback done) override {
    complete(write_now(size(), data), std::move(done));
  }

  void sync(IoCallback done) override {
    Status s;
    if (::fsync(fd_) != 0) s = errno_status("fsync", path_, errno);
    complete(std::move(s), std::move(done));
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return errno_status("ftruncate", path_, errno);
    }
    return Status::ok();
  }

  uint64_t size() const override {
    struct stat st;
    // fstat on an open descriptor fails only on a programming error (bad fd).
    REPLSIM_ASSERT_MSG(::fstat(fd_, &st) == 0, path_.c_str());
    return static_cast<uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  // pwrite of all of `data`; on failure an extension of the file is cut back.
  Status write_now(uint64_t offset, const std::string& data) {
    const uint64_t size_before = size();
    size_t done = 0;
    while (done < data.size()) {
      ssize_t r =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        const int err = r < 0 ? errno : ENOSPC;  // a zero-byte write means no room
        if (offset + data.size() > size_before) {
          (void)::ftruncate(fd_, static_cast<off_t>(size_before));
        }
        return errno_status("pwrite", path_, err);
      }
      done += static_cast<size_t>(r);
    }
    return Status::ok();
  }

  void complete(Status s, IoCallback done) {
    post_([s = std::move(s), done = std::move(done)]() mutable { done(std::move(s)); });
  }

  int fd_;
  std::string path_;
  PostFn post_;
};

}  // namespace

std::string escape_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/') {
      out += "%2F";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_file_name(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && name.compare(i, 3, "%2F") == 0) {
      out += '/';
      i += 2;
    } else if (name[i] == '%' && name.compare(i, 3, "%25") == 0) {
      out += '%';
      i += 2;
    } else {
      out += name[i];
    }
  }
  return out;
}

PosixFileSystem::PosixFileSystem(std::string dir, PostFn post)
    : dir_(std::move(dir)), post_(std::move(post)) {}

Status PosixFileSystem::create_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("create directory " + dir + ": " + ec.message());
  return Status::ok();
}

std::string PosixFileSystem::os_path(const std::string& path) const {
  return dir_ + "/" + escape_file_name(path);
}

Result<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path, bool create) {
  if (path.empty()) return Status::invalid_argument("open: empty file name");
  const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(os_path(path).c_str(), flags, 0644);
  if (fd < 0 && errno == ENOENT && !create) return Status::not_found("open " + path);
  if (fd < 0) return errno_status("open", path, errno);
  return std::unique_ptr<File>(new PosixFile(fd, path, post_));
}

bool PosixFileSystem::exists(const std::string& path) const {
  struct stat st;
  return ::stat(os_path(path).c_str(), &st) == 0;
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::unlink(os_path(path).c_str()) != 0) {
    if (errno == ENOENT) return Status::not_found("remove " + path);
    return errno_status("unlink", path, errno);
  }
  return Status::ok();
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(os_path(from).c_str(), os_path(to).c_str()) != 0) {
    if (errno == ENOENT) return Status::not_found("rename " + from);
    return errno_status("rename", from + " -> " + to, errno);
  }
  return Status::ok();
}

void PosixFileSystem::sync_dir(IoCallback done) {
  Status s;
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    s = errno_status("open directory", dir_, errno);
  } else {
    if (::fsync(fd) != 0) s = errno_status("fsync directory", dir_, errno);
    ::close(fd);
  }
  post_([s = std::move(s), done = std::move(done)]() mutable { done(std::move(s)); });
}

std::vector<std::string> PosixFileSystem::list(const std::string& prefix) const {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return out;  // an unreadable directory lists nothing (open() will report)
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    name = unescape_file_name(name);
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace replsim::runtime
