// A minimal JSON writer and a parser for flat objects, enough for the JSON Lines history.
//
// The parser accepts one object whose values are strings, integers, booleans, null or arrays
// of strings (nested objects are rejected). Strings are escaped with \" \\ \n \t \uXXXX; bytes
// >= 0x80 are written as \u00XX so arbitrary bytes round-trip.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace replsim::harness {

std::string json_escape(const std::string& s);  // with the surrounding quotes

class JsonWriter {
 public:
  void field(const char* name, int64_t v);
  void field(const char* name, double v);
  void field(const char* name, bool v);
  void field(const char* name, const std::string& v);
  void field(const char* name, const char* v) { field(name, std::string(v)); }
  void field(const char* name, const std::vector<std::string>& v);
  void null_field(const char* name);
  std::string finish();  // the object, "{...}"

 private:
  void key(const char* name);
  std::string out_ = "{";
  bool first_ = true;
};

class JsonObject {
 public:
  static bool parse(const std::string& text, JsonObject* out, std::string* error);
  bool get_string(const std::string& k, std::string* v) const;
  bool get_int(const std::string& k, int64_t* v) const;
  bool get_bool(const std::string& k, bool* v) const;
  bool get_string_list(const std::string& k, std::vector<std::string>* v) const;

 private:
  struct Value {
    enum Kind { kString, kNumber, kBool, kNull, kList } kind = kNull;
    std::string text;  // string, or the number's text
    bool b = false;
    std::vector<std::string> list;
  };
  std::map<std::string, Value> values_;
};

}  // namespace replsim::harness
