#include "runtime/vault_json.h"

#include <charconv>

namespace replsim::runtime {

namespace {

Status wrong_type(const char* key, const char* want) {
  return Status::invalid_argument(std::string("field '") + key + "': expected " + want);
}

std::optional<int64_t> parse_digits(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<Json> parse_json_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("failed to parse JSON input");
  if (!j.is_object()) return Status::invalid_argument("JSON input must be an object");
  return j;
}

Result<std::optional<std::string>> json_opt_string(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return wrong_type(key, "a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int64_t>> json_opt_int(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  if (it->is_string()) {
    if (auto v = parse_digits(it->get_ref<const std::string&>())) return std::optional(*v);
  }
  return wrong_type(key, "an integer");
}

Result<std::optional<bool>> json_opt_bool(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<bool>();
  if (it->is_boolean()) return std::optional<bool>(it->get<bool>());
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "true" || s == "1") return std::optional<bool>(true);
    if (s == "false" || s == "0") return std::optional<bool>(false);
  }
  return wrong_type(key, "a boolean");
}

std::optional<int64_t> parse_duration_s(std::string_view text) {
  if (auto plain = parse_digits(text)) {
    if (*plain < 0) return std::nullopt;
    return plain;
  }
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j == text.size()) return std::nullopt;
    auto n = parse_digits(text.substr(i, j - i));
    if (!n) return std::nullopt;
    int64_t unit = 0;
    switch (text[j]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return std::nullopt;
    }
    if (*n > (int64_t{1} << 40)) return std::nullopt;
    total += *n * unit;
    i = j + 1;
  }
  return total;
}

Result<std::optional<int64_t>> json_opt_duration_s(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    return std::optional<int64_t>(it->get<int64_t>());
  }
  if (it->is_string()) {
    if (auto v = parse_duration_s(it->get_ref<const std::string&>())) return std::optional(*v);
  }
  return wrong_type(key, "a duration (seconds or \"90s\", \"5m\", \"1h\")");
}

Result<std::optional<std::vector<std::string>>> json_opt_strings(const Json& o, const char* key) {
  auto it = o.find(key);
  using Out = std::optional<std::vector<std::string>>;
  if (it == o.end() || it->is_null()) return Out();
  std::vector<std::string> out;
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    size_t start = 0;
    while (start <= s.size() && !s.empty()) {
      size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      std::string item = s.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (!item.empty()) out.push_back(item);
      start = comma + 1;
    }
    return Out(std::move(out));
  }
  if (!it->is_array()) return wrong_type(key, "a list of strings");
  for (const Json& e : *it) {
    if (!e.is_string()) return wrong_type(key, "a list of strings");
    out.push_back(e.get<std::string>());
  }
  return Out(std::move(out));
}

Result<std::optional<std::vector<int64_t>>> json_opt_ints(const Json& o, const char* key) {
  auto it = o.find(key);
  using Out = std::optional<std::vector<int64_t>>;
  if (it == o.end() || it->is_null()) return Out();
  if (!it->is_array()) return wrong_type(key, "a list of integers");
  std::vector<int64_t> out;
  for (const Json& e : *it) {
    if (!e.is_number_integer()) return wrong_type(key, "a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return Out(std::move(out));
}

Result<std::optional<Json>> json_opt_object(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<Json>();
  if (!it->is_object()) return wrong_type(key, "an object");
  return std::optional<Json>(*it);
}

std::string json_text(const Json& value) {
  // A request path with bytes that are not UTF-8 may be echoed in an answer: replaced (U+FFFD)
  // rather than thrown.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace replsim::runtime
