//===- LinkReport.h - what coroscope link reports, in each format ---------===//
//
// The findings of a linked program (WholeProgram.h) as clang-tidy's text,
// JSON and SARIF, and the previous result --baseline compares them with.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_LINKREPORT_H
#define COROSCOPE_TOOL_LINKREPORT_H

#include "LockGraph.h"
#include "WholeProgram.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace coroscope::tool {

/// One finding, whichever check it belongs to, as every format shows it.
struct Finding {
  const char *Check;
  std::string Message;
  std::string Fingerprint;
  lockgraph::Site At;
  struct Note {
    lockgraph::Site At;
    std::string Text;
  };
  std::vector<Note> Notes;
  const link::BlockingFinding *Blocking = nullptr;
  const lockgraph::Cycle *LockCycle = nullptr;
  std::string Status; // with --baseline: "new" or "unchanged"
};

/// The program's blocking chains, then its cycles.
std::vector<Finding> findings(const link::Program &P,
                              const std::vector<lockgraph::Cycle> &Cycles);

/// A previous run's findings (its --format=json), by fingerprint, and the
/// hashes of the facts files it read.
struct Baseline {
  std::map<std::string, std::pair<std::string, std::string>> Findings;
  std::map<std::string, std::string> FactsHashes; // path -> hash
};

llvm::Expected<Baseline> readBaseline(const std::string &Path);

/// clang-tidy's format; with \p OnlyNew, the new findings only.
void writeText(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
               bool OnlyNew);

/// With --baseline, \p Affected is set, and \p Fixed is what went away.
void writeJson(llvm::raw_ostream &OS, const link::Program &P,
               const std::vector<Finding> &Findings,
               const std::vector<std::pair<std::string, std::string>> &Facts,
               const std::vector<std::pair<std::string, std::string>> &Fixed,
               const std::vector<std::string> *Affected);

void writeSarif(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                llvm::StringRef SourceRoot);

} // namespace coroscope::tool

#endif
