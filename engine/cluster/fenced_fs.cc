#include "engine/cluster/fenced_fs.h"

namespace replsim::cluster {
namespace {

class FencedFile : public File {
 public:
  FencedFile(FencedFileSystem& fs, std::unique_ptr<File> base) : fs_(fs), base_(std::move(base)) {}

  Status read(uint64_t offset, size_t n, std::string* out) override {
    return base_->read(offset, n, out);
  }
  void write(uint64_t offset, std::string data, IoCallback done) override {
    if (!fs_.check()) return refuse(std::move(done));
    base_->write(offset, std::move(data), std::move(done));
  }
  void append(std::string data, IoCallback done) override {
    if (!fs_.check()) return refuse(std::move(done));
    base_->append(std::move(data), std::move(done));
  }
  void sync(IoCallback done) override { base_->sync(std::move(done)); }
  Status truncate(uint64_t size) override {
    if (!fs_.check()) return Status::fenced("truncate refused: stale lock generation");
    return base_->truncate(size);
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  void refuse(IoCallback done) {
    fs_.env().schedule(0, [done = std::move(done), path = base_->path()] {
      done(Status::fenced("write to " + path + " refused: stale lock generation"));
    });
  }

  FencedFileSystem& fs_;
  std::unique_ptr<File> base_;
};

}  // namespace

FencedFileSystem::FencedFileSystem(Env& env, FileSystem& base, std::function<bool()> allowed,
                                   uint64_t* refused)
    : env_(env), base_(base), allowed_(std::move(allowed)), refused_(refused) {}

bool FencedFileSystem::check() {
  if (allowed_()) return true;
  if (refused_ != nullptr) ++*refused_;
  return false;
}

Result<std::unique_ptr<File>> FencedFileSystem::open(const std::string& path, bool create) {
  if (create && !base_.exists(path) && !check()) {
    return Status::fenced("create of " + path + " refused: stale lock generation");
  }
  auto file = base_.open(path, create);
  if (!file.is_ok()) return file.status();
  return std::unique_ptr<File>(new FencedFile(*this, std::move(file.value())));
}

Status FencedFileSystem::remove(const std::string& path) {
  if (!check()) return Status::fenced("remove of " + path + " refused: stale lock generation");
  return base_.remove(path);
}

Status FencedFileSystem::rename(const std::string& from, const std::string& to) {
  if (!check()) return Status::fenced("rename to " + to + " refused: stale lock generation");
  return base_.rename(from, to);
}

FencedEnv::FencedEnv(Env& base, std::function<bool()> allowed, uint64_t* refused)
    : base_(base), fs_(base, base.fs(), std::move(allowed), refused) {}

}  // namespace replsim::cluster
