#include "scenarios/scenario_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace replsim::scenarios {
namespace {

// Collects parser errors as "FILE:LINE:COL: message", 1-based, and names the field written on
// the offending line when the parser's own message does not.
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  CollectingErrors(std::string file_name, std::string_view text)
      : file_name_(std::move(file_name)), text_(text) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    std::ostringstream out;
    out << file_name_ << ":" << line + 1 << ":" << column + 1 << ": " << message;
    if (message.find("field") == std::string::npos) {
      std::string field = field_before(line, column);
      if (!field.empty()) out << " (in field \"" << field << "\")";
    }
    if (!errors_.empty()) errors_ += "\n";
    errors_ += out.str();
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

  const std::string& errors() const { return errors_; }

 private:
  // The field written just before `column` of line `line` (both 0-based): the identifier
  // in front of the last ':' that precedes the column. Empty if there is none.
  std::string field_before(int line, int column) const {
    size_t start = 0;
    for (int i = 0; i < line && start != std::string_view::npos; ++i) {
      start = text_.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos) return "";
    std::string_view rest = text_.substr(start, text_.find('\n', start) - start);
    rest = rest.substr(0, std::min<size_t>(rest.size(), static_cast<size_t>(column) + 1));
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return "";
    size_t end = colon;
    while (end > 0 && rest[end - 1] == ' ') --end;
    size_t begin = end;
    while (begin > 0 &&
           (std::isalnum(static_cast<unsigned char>(rest[begin - 1])) || rest[begin - 1] == '_')) {
      --begin;
    }
    return std::string(rest.substr(begin, end - begin));
  }

  std::string file_name_;
  std::string_view text_;
  std::string errors_;
};

std::string base_name(const std::string& path) {
  std::string stem = std::filesystem::path(path).filename().string();
  const std::string suffix = ".textproto";
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) {
    stem.resize(stem.size() - suffix.size());
  }
  return stem;
}

}  // namespace

Result<proto::Scenario> parse_scenario(std::string_view text, const std::string& file_name) {
  proto::Scenario scenario;
  CollectingErrors errors(file_name, text);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &scenario)) {
    std::string message = errors.errors();
    if (message.empty()) message = file_name + ": could not parse the scenario";
    return Status::invalid_argument(message);
  }
  if (scenario.name().empty()) scenario.set_name(base_name(file_name));
  REPLSIM_RETURN_IF_ERROR(validate_scenario(scenario, file_name));
  apply_defaults(&scenario);
  return scenario;
}

Result<proto::Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

std::string leading_comment(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.empty() || line.front() != '#') break;
    line.remove_prefix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!line.empty()) {
      if (!out.empty()) out += ' ';
      out += line;
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string one_line_description(std::string_view text) {
  std::string comment = leading_comment(text);
  size_t stop = comment.find(". ");
  if (stop != std::string::npos) comment.resize(stop + 1);
  return comment;
}

double total_duration_s(const proto::Scenario& scenario) {
  const proto::Phases& p = scenario.phases();
  return p.safety_s() + std::max(p.liveness_writes_s(), p.convergence_bound_s());
}

std::vector<std::string> list_scenario_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace replsim::scenarios
