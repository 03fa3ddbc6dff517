#include "json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace coroscope::json {

namespace {

// The length of the valid UTF-8 sequence at the start of `text`, or 0.
std::size_t utf8_sequence(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                                     : (lead & 0xF8) == 0xF0   ? 4
                                                               : 0;
  if (length == 0 || length > text.size())
    return 0;
  std::uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80)
      return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
    return 0; // overlong, out of range, or a surrogate
  return length;
}

} // namespace

// Exception messages and names are not always UTF-8, and JSON must be: a
// byte that does not start a valid sequence becomes U+FFFD.
void append_string(std::string &out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    char c = text.front();
    std::size_t length = utf8_sequence(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD"; // U+FFFD
      text.remove_prefix(1);
      continue;
    }
    if (length > 1) {
      out.append(text.data(), length);
      text.remove_prefix(length);
      continue;
    }
    text.remove_prefix(1);
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
        out += buffer;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

void append_number(std::string &out, double number) {
  if (!std::isfinite(number)) {
    out += '0';
    return;
  }
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, number);
  out.append(buffer, error == std::errc{} ? end : buffer);
}

void append_micros(std::string &out, std::int64_t ns) {
  std::uint64_t magnitude = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : std::uint64_t(ns);
  if (ns < 0)
    out += '-';
  out += std::to_string(magnitude / 1000);
  char fraction[5];
  std::snprintf(fraction, sizeof fraction, ".%03u", static_cast<unsigned>(magnitude % 1000));
  out += fraction;
}

void writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }
}

writer &writer::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}
writer &writer::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}
writer &writer::begin_array() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}
writer &writer::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}
writer &writer::key(std::string_view name) {
  separate();
  append_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}
writer &writer::value(std::string_view text) {
  separate();
  append_string(out_, text);
  return *this;
}
writer &writer::value(std::uint64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}
writer &writer::value(std::int64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}
writer &writer::value(double number) {
  separate();
  append_number(out_, number);
  return *this;
}
writer &writer::micros(std::int64_t ns) {
  separate();
  append_micros(out_, ns);
  return *this;
}
writer &writer::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}
writer &writer::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

} // namespace coroscope::json
