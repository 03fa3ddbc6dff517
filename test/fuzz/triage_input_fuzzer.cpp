// libFuzzer target: `coroscope triage`'s readers (clang-tidy text output and
// --export-fixes YAML) and its grouping on arbitrary bytes. Every finding
// read lands in exactly one group.
#include "TriageFindings.h"
#include "TriageGroups.h"

#include "llvm/Support/Error.h"
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  auto Findings = coroscope::tool::triage::readFindings(Text, "<fuzz>");
  if (!Findings) {
    llvm::consumeError(Findings.takeError());
    return 0;
  }
  size_t Grouped = 0;
  for (const auto &G : coroscope::tool::triage::groupFindings(*Findings))
    Grouped += G.Findings.size();
  if (Grouped != Findings->size())
    std::abort();
  return 0;
}
