// Configuration: COROSCOPE_* read from the environment once, on first use,
// and applied (the clock, thresholds, trace, watchdog, process hooks).
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace coroscope::detail {

std::mutex g_configure_lock;

namespace {

bool parse_flag(const char *name, const char *text, bool fallback,
                std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  std::string v(text);
  for (char &c : v)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "on" || v == "true" || v == "yes")
    return true;
  if (v == "0" || v == "off" || v == "false" || v == "no")
    return false;
  warnings.push_back(std::string("coroscope: warning: ") + name + "='" + text +
                     "' is not 0/1/on/off; using " + (fallback ? "1" : "0"));
  return fallback;
}

double parse_millis(const char *name, const char *text, double fallback,
                    std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  char *end = nullptr;
  double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0) || value > 1e9) {
    std::ostringstream message;
    message << "coroscope: warning: " << name << "='" << text
            << "' is not a positive number of milliseconds; using " << fallback;
    warnings.push_back(message.str());
    return fallback;
  }
  return value;
}

std::size_t parse_count(const char *name, const char *text, std::size_t fallback,
                        std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || text[0] == '-') {
    warnings.push_back(std::string("coroscope: warning: ") + name + "='" + text +
                       "' is not a count; using " + std::to_string(fallback));
    return fallback;
  }
  return static_cast<std::size_t>(value);
}

} // namespace

void apply_config(const config &cfg) {
  runtime &r = rt();
  stop_watchdog();
  stop_flight_recorder();
  r.cfg = cfg;
  if (!cfg.enabled) {
    g_gate.store(2, std::memory_order_relaxed);
    return;
  }
  choose_clock(cfg.clock);
  r.start_ticks = now_ticks();
  r.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  r.start_time = std::chrono::steady_clock::now();
  g_slow_ticks.store(ms_to_ticks(cfg.slow_ms), std::memory_order_relaxed);
  g_hang_ticks.store(ms_to_ticks(cfg.hang_ms), std::memory_order_relaxed);
  configure_trace(cfg);
  configure_locks(cfg);
  if (cfg.signal)
    install_dump_signal();
  if (cfg.watchdog || cfg.signal)
    start_watchdog();
  install_process_hooks();
  g_gate.store(1, std::memory_order_relaxed);
}

bool configure_runtime() noexcept {
  std::lock_guard guard(g_configure_lock);
  if (g_gate.load() != 0)
    return g_gate.load() == 1;
  try {
    std::vector<std::string> warnings;
    config cfg = read_config([](const char *name) { return std::getenv(name); }, warnings);
    for (const std::string &w : warnings)
      std::fprintf(stderr, "%s\n", w.c_str());
    apply_config(cfg);
  } catch (...) {
    g_gate.store(2);
  }
  return g_gate.load() == 1;
}

config read_config(const std::function<const char *(const char *)> &getenv,
                   std::vector<std::string> &warnings) {
  config cfg;
  cfg.enabled = parse_flag("COROSCOPE", getenv("COROSCOPE"), true, warnings);
  cfg.slow_ms =
      parse_millis("COROSCOPE_SLOW_MS", getenv("COROSCOPE_SLOW_MS"), cfg.slow_ms, warnings);
  cfg.hang_ms =
      parse_millis("COROSCOPE_HANG_MS", getenv("COROSCOPE_HANG_MS"), cfg.hang_ms, warnings);
  cfg.watchdog = parse_flag("COROSCOPE_WATCHDOG", getenv("COROSCOPE_WATCHDOG"), false, warnings);
  cfg.signal = parse_flag("COROSCOPE_SIGNAL", getenv("COROSCOPE_SIGNAL"), false, warnings);
  cfg.summary = parse_flag("COROSCOPE_SUMMARY", getenv("COROSCOPE_SUMMARY"), false, warnings);
  if (const char *path = getenv("COROSCOPE_REPORT"))
    cfg.report_path = path;
  if (const char *path = getenv("COROSCOPE_TRACE"))
    cfg.trace_path = path;
  if (const char *clock = getenv("COROSCOPE_CLOCK"); clock != nullptr && *clock != '\0') {
    std::string v = clock;
    if (v == "auto" || v == "tsc" || v == "steady")
      cfg.clock = v;
    else
      warnings.push_back("coroscope: warning: COROSCOPE_CLOCK='" + v +
                         "' is not auto, tsc or steady; using auto");
  }
  cfg.max_records = parse_count("COROSCOPE_MAX_RECORDS", getenv("COROSCOPE_MAX_RECORDS"),
                                cfg.max_records, warnings);
  cfg.max_trace_events = parse_count("COROSCOPE_TRACE_EVENTS", getenv("COROSCOPE_TRACE_EVENTS"),
                                     cfg.max_trace_events, warnings);
  read_trace_config(getenv, cfg, warnings);
  cfg.max_site_blocks = parse_count("COROSCOPE_MAX_SITES", getenv("COROSCOPE_MAX_SITES"),
                                    cfg.max_site_blocks, warnings);
  if (const char *path = getenv("COROSCOPE_LOCK_FACTS"); path != nullptr && *path != '\0')
    cfg.lock_facts_path = path;
  cfg.lock_sample = parse_count("COROSCOPE_LOCK_SAMPLE", getenv("COROSCOPE_LOCK_SAMPLE"),
                                cfg.lock_sample, warnings);
  if (cfg.lock_sample == 0) {
    warnings.push_back("coroscope: warning: COROSCOPE_LOCK_SAMPLE='0' is not a positive "
                       "count; timing every lock hold");
    cfg.lock_sample = 1;
  }
  return cfg;
}

void reset_for_testing(const config &cfg) {
  runtime &r = rt();
  {
    std::lock_guard guard(g_configure_lock);
    apply_config(cfg);
  }
  {
    std::lock_guard guard(r.registry_lock);
    for (thread_record *t : r.threads)
      zero_thread(*t);
  }
  zero_ready_counts();
  r.peak_threads.store(0, std::memory_order_relaxed);
  r.system_samples.store(0, std::memory_order_relaxed);
  std::scoped_lock guard(r.records_lock, r.log_lock);
  forget_records_unlocked();
}

} // namespace coroscope::detail
