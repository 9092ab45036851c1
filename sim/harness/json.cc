#include "sim/harness/json.h"

#include <cstdio>
#include <cstdlib>

namespace replsim::harness {

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x80) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

void JsonWriter::key(const char* name) {
  if (!first_) out_ += ',';
  first_ = false;
  out_ += json_escape(name);
  out_ += ':';
}

void JsonWriter::field(const char* name, int64_t v) {
  key(name);
  out_ += std::to_string(v);
}

void JsonWriter::field(const char* name, double v) {
  key(name);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  out_ += buf;
}

void JsonWriter::field(const char* name, bool v) {
  key(name);
  out_ += v ? "true" : "false";
}

void JsonWriter::field(const char* name, const std::string& v) {
  key(name);
  out_ += json_escape(v);
}

void JsonWriter::field(const char* name, const std::vector<std::string>& v) {
  key(name);
  out_ += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out_ += ',';
    out_ += json_escape(v[i]);
  }
  out_ += ']';
}

void JsonWriter::null_field(const char* name) {
  key(name);
  out_ += "null";
}

std::string JsonWriter::finish() { return out_ + "}"; }

namespace {

struct Parser {
  const std::string& s;
  size_t i = 0;
  std::string error;

  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  }
  bool expect(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    error = std::string("expected '") + c + "' at " + std::to_string(i);
    return false;
  }
  bool string(std::string* out) {
    if (!expect('"')) return false;
    out->clear();
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (i >= s.size()) break;
      char e = s[i++];
      if (e == 'n')
        *out += '\n';
      else if (e == 't')
        *out += '\t';
      else if (e == 'r')
        *out += '\r';
      else if (e == 'u' && i + 4 <= s.size()) {
        long code = std::strtol(s.substr(i, 4).c_str(), nullptr, 16);
        i += 4;
        if (code > 0xff) {
          error = "\\u escape above 0xff is not supported";
          return false;
        }
        *out += static_cast<char>(code);
      } else {
        *out += e;
      }
    }
    return expect('"');
  }
};

}  // namespace

bool JsonObject::parse(const std::string& text, JsonObject* out, std::string* error) {
  Parser p{text, 0, {}};
  if (!p.expect('{')) {
    *error = p.error;
    return false;
  }
  p.skip_ws();
  if (p.i < text.size() && text[p.i] == '}') return true;
  while (true) {
    std::string k;
    if (!p.string(&k) || !p.expect(':')) break;
    p.skip_ws();
    Value v;
    char c = p.i < text.size() ? text[p.i] : '\0';
    if (c == '"') {
      v.kind = Value::kString;
      if (!p.string(&v.text)) break;
    } else if (c == '[') {
      v.kind = Value::kList;
      ++p.i;
      p.skip_ws();
      if (p.i < text.size() && text[p.i] == ']') {
        ++p.i;
      } else {
        bool ok = true;
        while (ok) {
          std::string item;
          ok = p.string(&item);
          if (!ok) break;
          v.list.push_back(item);
          p.skip_ws();
          if (p.i < text.size() && text[p.i] == ',') {
            ++p.i;
          } else {
            ok = p.expect(']');
            break;
          }
        }
        if (!ok) break;
      }
    } else if (text.compare(p.i, 4, "true") == 0 || text.compare(p.i, 5, "false") == 0) {
      v.kind = Value::kBool;
      v.b = text[p.i] == 't';
      p.i += v.b ? 4 : 5;
    } else if (text.compare(p.i, 4, "null") == 0) {
      p.i += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::kNumber;
      size_t start = p.i;
      while (p.i < text.size() &&
             std::string("-+.eE0123456789").find(text[p.i]) != std::string::npos) {
        ++p.i;
      }
      v.text = text.substr(start, p.i - start);
    } else {
      p.error = "unsupported value at " + std::to_string(p.i);
      break;
    }
    out->values_[k] = std::move(v);
    p.skip_ws();
    if (p.i < text.size() && text[p.i] == ',') {
      ++p.i;
      continue;
    }
    if (p.expect('}')) return true;
    break;
  }
  *error = p.error.empty() ? "malformed object" : p.error;
  return false;
}

bool JsonObject::get_string(const std::string& k, std::string* v) const {
  auto it = values_.find(k);
  if (it == values_.end() || it->second.kind != Value::kString) return false;
  *v = it->second.text;
  return true;
}

bool JsonObject::get_int(const std::string& k, int64_t* v) const {
  auto it = values_.find(k);
  if (it == values_.end() || it->second.kind != Value::kNumber) return false;
  *v = std::strtoll(it->second.text.c_str(), nullptr, 10);
  return true;
}

bool JsonObject::get_bool(const std::string& k, bool* v) const {
  auto it = values_.find(k);
  if (it == values_.end() || it->second.kind != Value::kBool) return false;
  *v = it->second.b;
  return true;
}

bool JsonObject::get_string_list(const std::string& k, std::vector<std::string>* v) const {
  auto it = values_.find(k);
  if (it == values_.end() || it->second.kind != Value::kList) return false;
  *v = it->second.list;
  return true;
}

}  // namespace replsim::harness
