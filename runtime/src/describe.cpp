// How the runtime names a frame and a site in its records and lines.
#include "tracker.hpp"

#include <cstdlib>
#include <cstring>
#include <cxxabi.h>

namespace coroscope::detail {

report::location location_of(const site *where, const site *body) {
  report::location l;
  if (where == nullptr)
    return l;
  const char *function = where->function != nullptr ? where->function
                         : body != nullptr          ? body->function
                                                    : nullptr;
  l.function = function != nullptr ? function : "";
  l.file = where->file != nullptr ? where->file : "";
  l.line = where->line;
  l.column = where->column;
  return l;
}

const char *state_name(std::uint8_t s) {
  const char *name = coroscope::state_name(static_cast<coroscope::state>(s));
  return name != nullptr ? name : "unknown";
}

std::string frame_name(const frame &f) {
  if (f.name_[0] != '\0')
    return f.name_;
  // Where it was created, else where it started.
  const site *from = f.creation_site_ != nullptr ? f.creation_site_ : f.start_site_;
  if (from == nullptr || from->file == nullptr)
    return "";
  const char *file = std::strrchr(from->file, '/');
  std::string text = "from ";
  text += file != nullptr ? file + 1 : from->file;
  text += ':';
  text += std::to_string(from->line);
  return text;
}

std::string display_name(const frame &f) {
  report::coroutine c;
  c.body.function = f.body_ != nullptr && f.body_->function != nullptr ? f.body_->function : "?";
  c.name = frame_name(f);
  c.named = f.name_[0] != '\0';
  return report::display_name(c);
}

std::string demangle(const char *name) {
  int status = 0;
  char *readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string text = status == 0 && readable != nullptr ? readable : name;
  std::free(readable);
  return text;
}

} // namespace coroscope::detail
