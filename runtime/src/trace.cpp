// The trace's settings (COROSCOPE_TRACE_FORMAT, COROSCOPE_TRACE_WINDOW),
// the format a path gets, and write_trace(). The buffers are in
// trace_ring.cpp, the writers in trace_json.cpp and trace_perfetto.cpp, the
// flight recorder's dumps in trace_recorder.cpp.
#include "trace.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace coroscope::detail {
namespace {

std::string lowercase(std::string text) {
  for (char &c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "<N>s": the last N seconds; "<N>": each thread's last N steps; "0": off.
bool parse_window(const std::string &text, config &cfg) {
  if (text.empty() || text[0] == '-' || text[0] == '+' ||
      std::isspace(static_cast<unsigned char>(text[0])))
    return false;
  char *end = nullptr;
  if (text.back() == 's') {
    std::string number = text.substr(0, text.size() - 1);
    double seconds = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || !std::isfinite(seconds) || !(seconds > 0) ||
        seconds > 1e6)
      return false;
    cfg.trace_window_seconds = seconds;
    return true;
  }
  unsigned long long steps = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0')
    return false;
  cfg.trace_window_steps = static_cast<std::size_t>(steps);
  return true;
}

} // namespace

std::string window_label(const config &cfg) {
  if (cfg.trace_window_steps != 0)
    return std::to_string(cfg.trace_window_steps) + " steps";
  if (cfg.trace_window_seconds > 0) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g s", cfg.trace_window_seconds);
    return buffer;
  }
  return "";
}

void read_trace_config(const std::function<const char *(const char *)> &getenv, config &cfg,
                       std::vector<std::string> &warnings) {
  if (const char *format = getenv("COROSCOPE_TRACE_FORMAT"); format != nullptr && *format) {
    std::string value = lowercase(format);
    if (value == "json" || value == "perfetto")
      cfg.trace_format = value;
    else
      warnings.push_back(std::string("coroscope: warning: COROSCOPE_TRACE_FORMAT='") + format +
                         "' is not perfetto or json; using the path's extension");
  }
  if (const char *window = getenv("COROSCOPE_TRACE_WINDOW"); window != nullptr && *window) {
    config parsed;
    if (parse_window(window, parsed)) {
      cfg.trace_window_steps = parsed.trace_window_steps;
      cfg.trace_window_seconds = parsed.trace_window_seconds;
    } else {
      warnings.push_back(std::string("coroscope: warning: COROSCOPE_TRACE_WINDOW='") + window +
                         "' is not a number of steps or of seconds (5000, 10s); keeping the "
                         "whole run");
    }
  }
}

bool window_configured(const config &cfg) {
  return cfg.trace_window_steps != 0 || cfg.trace_window_seconds > 0;
}

void configure_trace(const config &cfg) {
  runtime &r = rt();
  forget_trace();
  r.trace_budget.store(static_cast<std::int64_t>(cfg.max_trace_events), std::memory_order_relaxed);
  g_trace_on.store(!cfg.trace_path.empty(), std::memory_order_relaxed);
  configure_flight_recorder(cfg);
}

trace_format format_for(const std::string &path) {
  const std::string &chosen = rt().cfg.trace_format;
  if (chosen == "json")
    return trace_format::json;
  if (chosen == "perfetto")
    return trace_format::perfetto;
  std::string_view extension = ".json";
  bool json = path.size() >= extension.size() &&
              lowercase(path.substr(path.size() - extension.size())) == extension;
  return json ? trace_format::json : trace_format::perfetto;
}

std::string encode_trace(const trace_snapshot &snapshot, trace_format format) {
  return format == trace_format::json ? trace_json(snapshot) : trace_perfetto(snapshot);
}

std::string trace_now(const std::string &path) {
  return encode_trace(take_trace_snapshot(nullptr), format_for(path));
}

std::int64_t trace_ns_since_start(std::int64_t ticks) {
  std::int64_t delta = ticks - rt().start_ticks;
  return delta < 0 ? -static_cast<std::int64_t>(ticks_to_ns(-delta))
                   : static_cast<std::int64_t>(ticks_to_ns(delta));
}

std::uint64_t trace_monotonic_ns(std::int64_t ticks) {
  std::int64_t start = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           rt().start_time.time_since_epoch())
                           .count();
  std::int64_t at = start + trace_ns_since_start(ticks);
  return at < 0 ? 0 : static_cast<std::uint64_t>(at);
}

} // namespace coroscope::detail

namespace coroscope {

bool write_trace(const std::string &path) {
  return detail::write_now(path, "trace", [&] { return detail::trace_now(path); });
}

} // namespace coroscope
