//===- TriageFindings.h - coro-* findings read from clang-tidy's output ---===//
//
// `coroscope triage` reads what clang-tidy printed, or the YAML that its
// --export-fixes wrote, and keeps the coro-* warnings with their notes.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_TRIAGEFINDINGS_H
#define COROSCOPE_TOOL_TRIAGEFINDINGS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace coroscope::tool::triage {

struct Site {
  std::string File;
  int64_t Line = 0; // 0 when the file to count lines in is gone
  int64_t Column = 0;
};

struct Note {
  Site At;
  std::string Message;
};

struct Finding {
  std::string Check; // "coro-blocking-call"
  Site At;
  std::string Message;
  std::vector<Note> Notes;
};

/// The coro-* warnings of one input, in order, each once (clang-tidy repeats
/// a header's warnings for every TU that includes it). Text and
/// --export-fixes YAML are told apart by their first line.
llvm::Expected<std::vector<Finding>> readFindings(llvm::StringRef Text,
                                                  llvm::StringRef Name);

} // namespace coroscope::tool::triage

#endif
