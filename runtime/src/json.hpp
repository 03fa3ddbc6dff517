// A small JSON writer and reader for reports; the runtime takes no
// dependencies, so it carries its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coroscope::json {

// Appends `text` as a quoted JSON string.
void append_string(std::string &out, std::string_view text);
void append_number(std::string &out, double value);

// Builds a document without a tree: callers emit keys and values in order and
// the writer places the commas.
class writer {
public:
  explicit writer(std::string &out) : out_(out) {}
  writer &begin_object();
  writer &end_object();
  writer &begin_array();
  writer &end_array();
  writer &key(std::string_view name);
  writer &value(std::string_view text);
  writer &value(const char *text) { return value(std::string_view(text)); }
  writer &value(const std::string &text) { return value(std::string_view(text)); }
  writer &value(std::uint64_t number);
  writer &value(std::int64_t number);
  writer &value(std::uint32_t number) { return value(std::uint64_t{number}); }
  writer &value(int number) { return value(std::int64_t{number}); }
  writer &value(double number);
  writer &value(bool flag);
  writer &raw(std::string_view json); // an already-encoded value

private:
  void separate();
  std::string &out_;
  std::vector<bool> first_; // per open container: no element written yet
  bool after_key_ = false;
};

struct value;
using object = std::map<std::string, value, std::less<>>;
using array = std::vector<value>;

struct value {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      data;

  bool is_object() const { return std::holds_alternative<std::shared_ptr<object>>(data); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<array>>(data); }
  bool is_number() const { return std::holds_alternative<double>(data); }
  bool is_string() const { return std::holds_alternative<std::string>(data); }
  bool is_bool() const { return std::holds_alternative<bool>(data); }
  const object &as_object() const;
  const array &as_array() const;
  // Absent keys and wrong types read as empty/zero; the caller validates
  // what it must have.
  const value *find(std::string_view key) const;
  double number(std::string_view key, double fallback = 0) const;
  std::uint64_t count(std::string_view key) const;
  std::string string(std::string_view key) const;
  bool flag(std::string_view key) const;
};

// Parses a whole document; on error returns false and a one-line message
// with the byte offset.
bool parse(std::string_view text, value &result, std::string &error);

} // namespace coroscope::json
