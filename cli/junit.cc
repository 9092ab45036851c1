#include "cli/junit.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace replsim::cli {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0.
size_t utf8_length(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  const size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// XML 1.0 text or attribute value: the five entities escaped; control characters other than
// tab/newline and invalid UTF-8 (a crashed child's log can hold anything) become '?'.
std::string xml_escape(const std::string& text, bool attribute) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = utf8_length(text, i);
      out += n == 0 ? std::string("?") : text.substr(i, n);
      i += n == 0 ? 0 : n - 1;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c < 0x20 ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

std::string attr(const std::string& name, const std::string& value) {
  return " " + name + "=\"" + xml_escape(value, true) + "\"";
}

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", s);
  return text;
}

bool is_error(const proto::SeedOutcome& s) {
  return !s.passed() && (s.exit_code() > 1 || (s.failures_size() == 0 && !s.error().empty()));
}

int count_errors(const proto::SwarmResult& r) {
  int errors = 0;
  for (const proto::SeedOutcome& s : r.seeds()) errors += is_error(s);
  return errors;
}

// The <failure> or <error> element of a seed that did not pass.
std::string failure_element(const proto::SeedOutcome& s) {
  std::string message;
  std::string body;
  for (const proto::CheckerOutcome& c : s.failures()) {
    message += (message.empty() ? "" : "; ") + c.name() + ": " + c.message();
    body += "checker: " + c.name() + "\nmessage: " + c.message() + "\n";
    if (!c.first_offending_event().empty()) {
      body += "first offending event (t=" + seconds(c.time_s()) +
              " s): " + c.first_offending_event() + "\n";
    }
  }
  if (s.failures_size() == 0) {
    for (const std::string& name : s.failed_checkers()) {
      message += (message.empty() ? "" : ", ") + name;
    }
  }
  const bool crashed = is_error(s);
  if (crashed) {
    message = "exit " + std::to_string(s.exit_code()) + (message.empty() ? "" : ": " + message);
    body += "output: " + s.error() + "\n";
  }
  if (message.empty()) message = "failed (exit " + std::to_string(s.exit_code()) + ")";
  body += "reproduce: " + s.reproduce() + "\n";
  const std::string tag = crashed ? "error" : "failure";
  return "      <" + tag + attr("message", message) + attr("type", crashed ? "crash" : "checker") +
         ">" + xml_escape(body, false) + "</" + tag + ">\n";
}

void write_suite(const proto::SwarmResult& r, std::ostringstream& out) {
  const std::string name = std::filesystem::path(r.scenario_file()).stem().string();
  const int errors = count_errors(r);
  double time_s = 0;
  for (const proto::SeedOutcome& s : r.seeds()) time_s += s.wall_s();
  const int tests = r.seeds_size() + r.missing_seeds_size();
  out << "  <testsuite" << attr("name", name) << attr("tests", std::to_string(tests))
      << attr("failures", std::to_string(static_cast<int>(r.failed()) - errors))
      << attr("errors", std::to_string(errors))
      << attr("skipped", std::to_string(r.missing_seeds_size())) << attr("time", seconds(time_s))
      << ">\n    <properties>\n";
  const std::pair<const char*, std::string> properties[] = {
      {"scenario_file", r.scenario_file()},
      {"scenario_sha256", r.scenario_sha256()},
      {"build_id", r.build_id()},
      {"seeds", std::to_string(r.seed_first()) + ".." + std::to_string(r.seed_last())}};
  for (const auto& [key, value] : properties) {
    out << "      <property" << attr("name", key) << attr("value", value) << "/>\n";
  }
  out << "    </properties>\n";
  const std::string classname = "replsim." + name;
  for (const proto::SeedOutcome& s : r.seeds()) {
    out << "    <testcase" << attr("name", "seed " + std::to_string(s.seed()))
        << attr("classname", classname) << attr("time", seconds(s.wall_s()));
    if (s.passed()) {
      out << "/>\n";
      continue;
    }
    out << ">\n" << failure_element(s) << "    </testcase>\n";
  }
  for (const std::string& gap : r.missing_seeds()) {
    out << "    <testcase" << attr("name", "seeds " + gap) << attr("classname", classname)
        << attr("time", "0") << ">\n      <skipped"
        << attr("message", "no result: the shard running these seeds did not finish") << "/>\n"
        << "    </testcase>\n";
  }
  out << "  </testsuite>\n";
}

}  // namespace

std::string junit_xml(const std::vector<proto::SwarmResult>& results) {
  uint32_t tests = 0;
  int failed = 0;
  int errors = 0;
  double time_s = 0;
  for (const proto::SwarmResult& r : results) {
    tests += static_cast<uint32_t>(r.seeds_size() + r.missing_seeds_size());
    errors += count_errors(r);
    failed += static_cast<int>(r.failed()) - count_errors(r);
    for (const proto::SeedOutcome& s : r.seeds()) time_s += s.wall_s();
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" << attr("name", "replsim swarm")
      << attr("tests", std::to_string(tests)) << attr("failures", std::to_string(failed))
      << attr("errors", std::to_string(errors)) << attr("time", seconds(time_s)) << ">\n";
  for (const proto::SwarmResult& r : results) write_suite(r, out);
  out << "</testsuites>\n";
  return out.str();
}

Status write_junit(const std::string& path, const std::vector<proto::SwarmResult>& results) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << junit_xml(results);
  out.flush();
  return out ? Status::ok() : Status::io_error(path + ": write failed");
}

}  // namespace replsim::cli
