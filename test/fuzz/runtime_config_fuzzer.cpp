// libFuzzer target: the runtime's COROSCOPE_* environment parser. The input
// is split into values for each variable; every value must give a usable
// configuration and at most one warning line per variable.
#include "coroscope/testing.hpp"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  static const char *const Names[] = {"COROSCOPE",
                                      "COROSCOPE_SLOW_MS",
                                      "COROSCOPE_HANG_MS",
                                      "COROSCOPE_WATCHDOG",
                                      "COROSCOPE_SIGNAL",
                                      "COROSCOPE_SUMMARY",
                                      "COROSCOPE_REPORT",
                                      "COROSCOPE_TRACE",
                                      "COROSCOPE_CLOCK",
                                      "COROSCOPE_MAX_RECORDS",
                                      "COROSCOPE_TRACE_EVENTS",
                                      "COROSCOPE_MAX_SITES"};
  std::map<std::string, std::string> Values;
  std::string Input(reinterpret_cast<const char *>(Data), Size);
  size_t Start = 0;
  for (const char *Name : Names) {
    size_t End = Input.find('\n', Start);
    if (Start > Input.size())
      break;
    // Environment values end at the first NUL.
    std::string Value =
        Input.substr(Start, End == std::string::npos ? End : End - Start);
    Values[Name] = Value.substr(0, Value.find('\0'));
    if (End == std::string::npos)
      break;
    Start = End + 1;
  }
  std::vector<std::string> Warnings;
  coroscope::detail::config Config = coroscope::detail::read_config(
      [&](const char *Name) -> const char * {
        auto Found = Values.find(Name);
        return Found == Values.end() ? nullptr : Found->second.c_str();
      },
      Warnings);
  if (Warnings.size() > std::size(Names))
    std::abort();
  for (const std::string &W : Warnings)
    if (W.find('\n') != std::string::npos ||
        W.rfind("coroscope: warning: ", 0) != 0)
      std::abort();
  if (!(Config.slow_ms > 0) || !(Config.hang_ms > 0))
    std::abort();
  if (Config.clock != "auto" && Config.clock != "tsc" &&
      Config.clock != "steady")
    std::abort();
  return 0;
}
