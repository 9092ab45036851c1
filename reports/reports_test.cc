// The reports are checked structurally: the HTML is well formed (balanced tags) and holds
// every chart, summary.json round-trips through the proto schema, and the trace is valid
// JSON with one track per node.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "reports/chrome_trace.h"
#include "reports/html_report.h"
#include "reports/summary.h"

namespace replsim::reports {
namespace {

ReportData sample_data() {
  ReportData d;
  d.scenario = "sample";
  d.scenario_file = "scenarios/sample.textproto";
  d.seed = 7;
  d.simulated_us = 10 * kUsPerSec;
  d.wall_s = 0.01;
  d.events = 12345;
  d.writes = 100;
  d.reads = 300;
  d.trace_hash = 0xdeadbeef;
  d.reproduce = "build/bin/replsim run scenarios/sample.textproto --seed 7";
  d.cluster_names = {"dc1", "dc2", "dc3 <&>"};
  d.nodes_per_cluster = 2;
  d.safety_end_us = 8 * kUsPerSec;
  d.converged_after_us = 500'000;
  for (TimeUs t = 0; t < d.simulated_us; t += 100'000) {
    d.lag.push_back({t, 1, 30'000 + t / 1000, 5});
    d.lag.push_back({t, 2, 31'000, 6});
    d.throughput.push_back({t, 10, 30, t > 5 * kUsPerSec ? 1u : 0u});
  }
  d.states = {{1, "connecting", 0, 100'000},
              {1, "stream-wals", 100'000, 4 * kUsPerSec},
              {1, "idle", 4 * kUsPerSec, 5 * kUsPerSec},
              {1, "merkle-diff", 5 * kUsPerSec, 5'200'000},
              {1, "merkle-sync", 5'200'000, 6 * kUsPerSec},
              {2, "stream-wals", 0, 10 * kUsPerSec}};
  d.faults = {{4 * kUsPerSec, "partition", "dc1|dc2", "10 s"},
              {6 * kUsPerSec, "crash", "node 3", ""}};
  for (int i = 0; i < 400; ++i) {
    const TimeUs start = i * 20'000;
    const bool write = i % 4 == 0;
    d.latencies.push_back({start + 2000 + i, write ? "write" : "read", 2000 + i, true, false});
    d.requests.push_back({static_cast<uint32_t>(i % 6), i % 8, write ? "write" : "read",
                          "kv/k" + std::to_string(i), start, start + 2000 + i,
                          i == 5 ? "info" : "ok", i == 9, write});
  }
  d.checks = {{"prefix_consistency", true, false, -1, "", "ok"},
              {"convergence", false, false, 9'500'000, "t=9.5s dc2 root differs",
               "dc2 did not converge within 1 s"}};
  return d;
}

// Balanced-tag check: every opened element is closed in order, except void elements and
// self-closed ones. Returns "" when well formed, else what is wrong.
std::string tag_balance_problem(const std::string& html) {
  static const std::vector<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input"};
  std::vector<std::string> stack;
  size_t at = 0;
  while ((at = html.find('<', at)) != std::string::npos) {
    size_t end = html.find('>', at);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = html.substr(at + 1, end - at - 1);
    at = end + 1;
    if (tag.empty() || tag[0] == '!') continue;
    const bool closing = tag[0] == '/';
    const bool self_closed = tag.back() == '/';
    size_t name_start = closing ? 1 : 0;
    size_t name_end = name_start;
    while (name_end < tag.size() && std::isalnum(static_cast<unsigned char>(tag[name_end]))) {
      ++name_end;
    }
    std::string name = tag.substr(name_start, name_end - name_start);
    if (closing) {
      if (stack.empty() || stack.back() != name) return "unexpected </" + name + ">";
      stack.pop_back();
    } else if (!self_closed && std::find(kVoid.begin(), kVoid.end(), name) == kVoid.end()) {
      stack.push_back(name);
    }
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

// A strict little JSON validator (RFC 8259 grammar, no extensions).
class JsonCheck {
 public:
  explicit JsonCheck(const std::string& text) : s_(text) {}
  bool valid() {
    ws();
    if (!value()) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool lit(const char* word) {
    size_t n = std::strlen(word);
    if (s_.compare(i_, n, word) != 0) return false;
    i_ += n;
    return true;
  }
  bool string() {
    if (s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      unsigned char c = s_[i_];
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size() || std::string("\"\\/bfnrtu").find(s_[i_]) == std::string::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      ++i_;
    }
    return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  bool value() {
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') return container('}', true);
    if (c == '[') return container(']', false);
    if (c == '"') return string();
    if (c == 't') return lit("true");
    if (c == 'f') return lit("false");
    if (c == 'n') return lit("null");
    return number();
  }
  bool container(char close, bool object) {
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == close) return ++i_, true;
    while (true) {
      ws();
      if (object) {
        if (!string()) return false;
        ws();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        ws();
      }
      if (!value()) return false;
      ws();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (s_[i_] == close) return ++i_, true;
      return false;
    }
  }
  const std::string& s_;
  size_t i_ = 0;
};

TEST(Reports, HtmlIsWellFormedSelfContainedAndHoldsEveryChart) {
  ReportData d = sample_data();
  std::string html = render_html(d, make_summary(d));
  EXPECT_EQ(tag_balance_problem(html), "");
  for (const char* id : {"lag-chart", "throughput-chart", "state-bands", "fault-timeline",
                         "latency-write", "latency-read", "checkers", "overview"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_NE(html.find("dc3 &lt;&amp;&gt;"), std::string::npos);  // names are escaped
  EXPECT_NE(html.find("dc2 did not converge"), std::string::npos);
  EXPECT_NE(html.find("t=9.500000 s: t=9.5s dc2 root differs"), std::string::npos);
  EXPECT_NE(html.find("merkle-sync"), std::string::npos);
}

TEST(Reports, TagCheckCatchesUnbalancedHtml) {
  EXPECT_NE(tag_balance_problem("<div><svg></div></svg>"), "");
  EXPECT_NE(tag_balance_problem("<table><tr><td>x</tr>"), "");
  EXPECT_EQ(tag_balance_problem("<p><br><rect x=\"1\"/></p>"), "");
}

TEST(Reports, SummaryJsonRoundTripsThroughTheSchema) {
  ReportData d = sample_data();
  proto::RunSummary summary = make_summary(d);
  std::string json = summary_to_json(summary);
  EXPECT_TRUE(JsonCheck(json).valid());
  Result<proto::RunSummary> back = summary_from_json(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(summary, *back));
  EXPECT_FALSE(back->passed());
  EXPECT_EQ(back->checkers_failed(), 1u);
  EXPECT_EQ(back->checkers_passed(), 1u);
  EXPECT_EQ(back->trace_hash(), "00000000deadbeef");
  ASSERT_EQ(back->lag_size(), 3);  // all, dc2, dc3
  EXPECT_EQ(back->lag(1).secondary(), "dc2");
  EXPECT_NEAR(back->speed_x_real_time(), 1000, 1e-6);
}

TEST(Reports, SummaryFromJsonRefusesGarbage) {
  EXPECT_FALSE(summary_from_json("{\"seed\": \"x\"}").is_ok());
  EXPECT_FALSE(summary_from_json("{\"no_such_field\": 1}").is_ok());
}

TEST(Reports, LagQuantilesUseNearestRank) {
  EXPECT_EQ(quantile({}, 0.5), 0);
  EXPECT_EQ(quantile({5, 1, 3, 2, 4}, 0.5), 3);
  EXPECT_EQ(quantile({5, 1, 3, 2, 4}, 1.0), 5);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(quantile(hundred, 0.99), 99);
}

TEST(Reports, ChromeTraceIsValidJsonWithOneTrackPerNode) {
  ReportData d = sample_data();
  std::string json = chrome_trace_json(d);
  EXPECT_TRUE(JsonCheck(json).valid());
  for (const char* node : {"dc1/0", "dc1/1", "dc2/0", "dc2/1", "dc3 <&>/0", "dc3 <&>/1"}) {
    EXPECT_NE(json.find(std::string("\"args\":{\"name\":\"") + node + "\"}"), std::string::npos)
        << node;
  }
  EXPECT_NE(json.find("\"ph\":\"b\",\"cat\":\"request\",\"name\":\"write\""), std::string::npos);
  EXPECT_NE(json.find("fault: crash node 3"), std::string::npos);
  // The crash of node 3 is an instant on node 3's track (pid 4).
  EXPECT_NE(json.find("\"s\":\"p\",\"name\":\"fault: crash node 3\",\"pid\":4"), std::string::npos);
}

TEST(Reports, ChromeTraceKeepsNotableRequestsWhenThinning) {
  ReportData d = sample_data();
  std::string json = chrome_trace_json(d, 10);
  EXPECT_TRUE(JsonCheck(json).valid());
  EXPECT_NE(json.find("\"outcome\":\"info\""), std::string::npos);
  EXPECT_NE(json.find("\"warning\":true"), std::string::npos);
  EXPECT_NE(json.find("\"requests\":400,\"requests_kept\":"), std::string::npos);
  size_t begins = 0;
  for (size_t at = 0; (at = json.find("\"ph\":\"b\"", at)) != std::string::npos; ++at) ++begins;
  EXPECT_LE(begins, 12u);
  EXPECT_GE(begins, 2u);
}

TEST(Reports, JsonCheckRejectsBrokenJson) {
  EXPECT_FALSE(JsonCheck("{\"a\":1,}").valid());
  EXPECT_FALSE(JsonCheck("[1 2]").valid());
  EXPECT_FALSE(JsonCheck("{\"a\":\"x\n\"}").valid());
  EXPECT_TRUE(JsonCheck("{\"a\":[1,-2.5e3,true,null,\"\\u0041\"]}").valid());
}

TEST(Reports, WriteReportDirWritesBothFiles) {
  const std::string dir = testing::TempDir() + "/replsim_report_test";
  ReportData d = sample_data();
  ASSERT_TRUE(write_report_dir(d, dir).is_ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/report.html"));
  std::ifstream in(dir + "/summary.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(summary_from_json(text.str()).is_ok());
}

}  // namespace
}  // namespace replsim::reports
