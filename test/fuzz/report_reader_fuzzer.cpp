// libFuzzer target: `coroscope report`'s reader on arbitrary bytes. A report
// it accepts must render (summary, HTML), merge, and read back unchanged
// from the JSON the runtime writes for it.
#include "Commands.h"
#include "ReportReader.h"
#include "coroscope/report.hpp"

#include "llvm/Support/Error.h"
#include <cstdint>
#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<coroscope::report::report> Report =
      coroscope::tool::readReport(Text);
  if (!Report) {
    llvm::consumeError(Report.takeError());
    return 0;
  }
  std::ostringstream Summary;
  coroscope::report::render_summary(*Report, Summary);
  (void)coroscope::tool::renderHtml(*Report);
  coroscope::report::report Merged =
      coroscope::report::merge({*Report, *Report});
  (void)coroscope::report::to_json(Merged);

  std::string Written = coroscope::report::to_json(*Report);
  llvm::Expected<coroscope::report::report> Again =
      coroscope::tool::readReport(Written);
  if (!Again) {
    llvm::errs() << "the reader rejects what the writer wrote: "
                 << llvm::toString(Again.takeError()) << "\n";
    std::abort();
  }
  if (coroscope::report::to_json(*Again) != Written) {
    llvm::errs() << "a report does not survive a round trip\n";
    std::abort();
  }
  return 0;
}
