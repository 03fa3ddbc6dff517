//===--- ReportReader.h - runtime reports read back, validated ------------===//
//
// Reads the JSON report the runtime writes (docs/runtime/report-schema.md)
// into the report model, for rendering and merging. Everything the model
// needs is checked: a missing field, a wrong type or a negative duration is
// an error naming the first bad field ("functions[2].started"), and a report
// of a newer schema version says so instead of being half understood.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_TOOL_REPORTREADER_H
#define COROSCOPE_TOOL_REPORTREADER_H

#include "coroscope/report.hpp"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace coroscope::tool {

/// Parses and validates one report; the error is one line without the path.
llvm::Expected<report::report> readReport(llvm::StringRef Text);

} // namespace coroscope::tool

#endif // COROSCOPE_TOOL_REPORTREADER_H
