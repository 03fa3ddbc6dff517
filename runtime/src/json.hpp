// A small JSON writer for reports and traces; the runtime takes no
// dependencies, so it carries its own. Reading is the tools' job (they have
// llvm::json), so there is no parser here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroscope::json {

// Appends `text` as a quoted JSON string.
void append_string(std::string &out, std::string_view text);
// The shortest text that reads back as the same double; non-finite values,
// which JSON cannot spell, are written as 0.
void append_number(std::string &out, double value);
// `ns` nanoseconds as microseconds with exactly three decimals ("12.345"):
// trace-event timestamps keep nanosecond precision however long a run is.
void append_micros(std::string &out, std::int64_t ns);

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
  writer &micros(std::int64_t ns); // see append_micros
  writer &raw(std::string_view json); // an already-encoded value

private:
  void separate();
  std::string &out_;
  std::vector<bool> first_; // per open container: no element written yet
  bool after_key_ = false;
};

} // namespace coroscope::json
