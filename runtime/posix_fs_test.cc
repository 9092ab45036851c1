#include "runtime/posix_fs.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <optional>

#include "runtime/test_util.h"

namespace replsim::runtime {
namespace {

using testing::TempDir;

class PosixFsTest : public ::testing::Test {
 protected:
  PosixFsTest() : dir_("posix-fs") { fs_ = make_fs(dir_.path()); }

  std::unique_ptr<PosixFileSystem> make_fs(const std::string& dir) {
    return std::make_unique<PosixFileSystem>(
        dir, [this](std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); });
  }

  // Issues an async op, checks it has not completed inside the call, then runs it out.
  Status wait(const std::function<void(IoCallback)>& op) {
    std::optional<Status> out;
    op([&](Status s) { out = std::move(s); });
    EXPECT_FALSE(out.has_value()) << "callback ran inside the call that issued it";
    io_.restart();
    io_.run();
    EXPECT_TRUE(out.has_value());
    return out.value_or(Status::aborted("never completed"));
  }

  std::string read_all(File& f) {
    std::string out;
    EXPECT_TRUE(f.read(0, f.size(), &out).is_ok());
    return out;
  }

  boost::asio::io_context io_;
  TempDir dir_;
  std::unique_ptr<PosixFileSystem> fs_;
};

TEST_F(PosixFsTest, WriteAppendSyncThenReadBackAfterReopen) {
  {
    auto f = fs_->open("store/data.log", true);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    File& file = *f.value();
    ASSERT_TRUE(wait([&](IoCallback cb) { file.write(0, "hello ", cb); }).is_ok());
    ASSERT_TRUE(wait([&](IoCallback cb) { file.append("world", cb); }).is_ok());
    ASSERT_TRUE(wait([&](IoCallback cb) { file.write(0, "J", cb); }).is_ok());
    EXPECT_EQ(file.size(), 11u);
    EXPECT_EQ(read_all(file), "Jello world");
    ASSERT_TRUE(wait([&](IoCallback cb) { file.sync(cb); }).is_ok());
    ASSERT_TRUE(wait([&](IoCallback cb) { fs_->sync_dir(cb); }).is_ok());
    std::string part;
    ASSERT_TRUE(file.read(6, 100, &part).is_ok());
    EXPECT_EQ(part, "world");  // short read at end of file
  }
  auto fs2 = make_fs(dir_.path());
  auto f = fs2->open("store/data.log", false);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(read_all(*f.value()), "Jello world");
}

TEST_F(PosixFsTest, WriteBeyondEndExtendsWithZeros) {
  auto f = fs_->open("a", true);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(wait([&](IoCallback cb) { f.value()->write(4, "x", cb); }).is_ok());
  EXPECT_EQ(read_all(*f.value()), std::string("\0\0\0\0x", 5));
}

TEST_F(PosixFsTest, TruncateShrinksAndIsSeenByReads) {
  auto f = fs_->open("t", true);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(wait([&](IoCallback cb) { f.value()->append("0123456789", cb); }).is_ok());
  ASSERT_TRUE(f.value()->truncate(4).is_ok());
  EXPECT_EQ(f.value()->size(), 4u);
  EXPECT_EQ(read_all(*f.value()), "0123");
  ASSERT_TRUE(wait([&](IoCallback cb) { f.value()->append("x", cb); }).is_ok());
  EXPECT_EQ(read_all(*f.value()), "0123x");
}

TEST_F(PosixFsTest, RenameReplacesTargetAndListIsSortedByPrefix) {
  for (const char* name : {"wal/2", "wal/1", "store/x", "odd%name"}) {
    auto f = fs_->open(name, true);
    ASSERT_TRUE(f.is_ok()) << name;
    ASSERT_TRUE(wait([&](IoCallback cb) { f.value()->append(name, cb); }).is_ok());
  }
  EXPECT_EQ(fs_->list("wal/"), (std::vector<std::string>{"wal/1", "wal/2"}));
  EXPECT_EQ(fs_->list(""), (std::vector<std::string>{"odd%name", "store/x", "wal/1", "wal/2"}));
  ASSERT_TRUE(fs_->rename("wal/2", "wal/1").is_ok());
  EXPECT_FALSE(fs_->exists("wal/2"));
  auto f = fs_->open("wal/1", false);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(read_all(*f.value()), "wal/2");
  ASSERT_TRUE(wait([&](IoCallback cb) { fs_->sync_dir(cb); }).is_ok());
  ASSERT_TRUE(fs_->remove("wal/1").is_ok());
  EXPECT_EQ(fs_->list("wal/"), std::vector<std::string>{});
  EXPECT_EQ(fs_->remove("wal/1").code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->rename("nope", "x").code(), StatusCode::kNotFound);
}

TEST_F(PosixFsTest, OpenMissingWithoutCreateIsNotFound) {
  auto f = fs_->open("missing", false);
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs_->exists("missing"));
}

// /dev/full refuses every write with ENOSPC: the disk-full path, without filling a disk.
TEST_F(PosixFsTest, FullDiskIsNoSpaceNotACrash) {
  auto devfs = make_fs("/dev");
  auto f = devfs->open("full", false);
  if (!f.is_ok()) GTEST_SKIP() << "/dev/full unavailable: " << f.status().to_string();
  Status s = wait([&](IoCallback cb) { f.value()->append("data", cb); });
  EXPECT_EQ(s.code(), StatusCode::kNoSpace) << s.to_string();
  EXPECT_NE(s.message().find("full"), std::string::npos) << "message names the file";
}

TEST_F(PosixFsTest, ErrorsNameThePath) {
  PosixFileSystem missing(dir_.path() + "/no/such/dir", [](std::function<void()> fn) { fn(); });
  auto f = missing.open("x", true);
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIoError);
  EXPECT_NE(f.status().message().find("x"), std::string::npos);
}

TEST(FileNameEscaping, RoundTripsSlashAndPercent) {
  for (std::string name : {"a/b/c", "%2F", "100%", "plain", "/lead"}) {
    EXPECT_EQ(unescape_file_name(escape_file_name(name)), name);
    EXPECT_EQ(escape_file_name(name).find('/'), std::string::npos);
  }
}

}  // namespace
}  // namespace replsim::runtime
