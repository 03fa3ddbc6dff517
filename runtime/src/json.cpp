#include "json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace coroscope::json {

void append_string(std::string &out, std::string_view text) {
  out += '"';
  for (char c : text) {
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
  std::snprintf(buffer, sizeof buffer, "%.6g", number);
  out += buffer;
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

const object &value::as_object() const {
  static const object empty;
  auto *held = std::get_if<std::shared_ptr<object>>(&data);
  return held != nullptr ? **held : empty;
}
const array &value::as_array() const {
  static const array empty;
  auto *held = std::get_if<std::shared_ptr<array>>(&data);
  return held != nullptr ? **held : empty;
}
const value *value::find(std::string_view key) const {
  const object &members = as_object();
  auto found = members.find(key);
  return found == members.end() ? nullptr : &found->second;
}
double value::number(std::string_view key, double fallback) const {
  const value *member = find(key);
  if (member == nullptr || !member->is_number())
    return fallback;
  return std::get<double>(member->data);
}
std::uint64_t value::count(std::string_view key) const {
  double n = number(key);
  return n <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(n));
}
std::string value::string(std::string_view key) const {
  const value *member = find(key);
  if (member == nullptr || !member->is_string())
    return {};
  return std::get<std::string>(member->data);
}
bool value::flag(std::string_view key) const {
  const value *member = find(key);
  return member != nullptr && member->is_bool() && std::get<bool>(member->data);
}

namespace {

class parser {
public:
  explicit parser(std::string_view text) : text_(text) {}

  bool document(value &result, std::string &error) {
    if (!parse_value(result, 0) || (skip_space(), pos_ != text_.size())) {
      if (message_.empty())
        message_ = "unexpected trailing characters";
      error = message_ + " at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

private:
  bool fail(const char *message) {
    if (message_.empty())
      message_ = message;
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool parse_value(value &out, int depth) {
    if (depth > 64)
      return fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size())
      return fail("unexpected end of input");
    char c = text_[pos_];
    if (c == '{')
      return parse_object(out, depth);
    if (c == '[')
      return parse_array(out, depth);
    if (c == '"') {
      std::string text;
      if (!parse_string(text))
        return false;
      out.data = std::move(text);
      return true;
    }
    if (c == 't') {
      out.data = true;
      return literal("true");
    }
    if (c == 'f') {
      out.data = false;
      return literal("false");
    }
    if (c == 'n') {
      out.data = nullptr;
      return literal("null");
    }
    return parse_number(out);
  }

  bool parse_number(value &out) {
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos)
      ++pos_;
    if (start == pos_)
      return fail("expected a value");
    std::string digits(text_.substr(start, pos_ - start));
    char *end = nullptr;
    double number = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size())
      return fail("invalid number");
    out.data = number;
    return true;
  }

  static void append_utf8(std::string &out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool parse_string(std::string &out) {
    ++pos_; // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"')
        return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size())
        break;
      char escaped = text_[pos_++];
      switch (escaped) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (pos_ + 4 > text_.size())
          return fail("truncated \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
          char h = text_[pos_++];
          code <<= 4;
          if (h >= '0' && h <= '9')
            code |= unsigned(h - '0');
          else if (h >= 'a' && h <= 'f')
            code |= unsigned(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            code |= unsigned(h - 'A' + 10);
          else
            return fail("invalid \\u escape");
        }
        append_utf8(out, code);
        break;
      }
      default:
        return fail("invalid escape");
      }
    }
    return fail("unterminated string");
  }

  bool parse_array(value &out, int depth) {
    ++pos_;
    auto elements = std::make_shared<array>();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      out.data = elements;
      return true;
    }
    while (true) {
      value element;
      if (!parse_value(element, depth + 1))
        return false;
      elements->push_back(std::move(element));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        out.data = elements;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool parse_object(value &out, int depth) {
    ++pos_;
    auto members = std::make_shared<object>();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out.data = members;
      return true;
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"')
        return fail("expected a string key");
      std::string name;
      if (!parse_string(name))
        return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':')
        return fail("expected ':'");
      ++pos_;
      value member;
      if (!parse_value(member, depth + 1))
        return false;
      (*members)[std::move(name)] = std::move(member);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        out.data = members;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string message_;
};

} // namespace

bool parse(std::string_view text, value &result, std::string &error) {
  return parser(text).document(result, error);
}

} // namespace coroscope::json
