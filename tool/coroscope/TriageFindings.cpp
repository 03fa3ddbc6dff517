//===- TriageFindings.cpp - coro-* findings from clang-tidy's output ------===//
#include "TriageFindings.h"

#include "clang/Tooling/DiagnosticsYaml.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/YAMLTraits.h"

#include <set>
#include <tuple>

namespace coroscope::tool::triage {

namespace {

bool isCoroCheck(llvm::StringRef Name) { return Name.starts_with("coro-"); }

/// Drops repeated findings, keeping the first.
class Deduplicator {
public:
  bool firstTime(const Finding &F) {
    return Seen.insert({F.Check, F.At.File, F.At.Line, F.At.Column, F.Message})
        .second;
  }

private:
  std::set<std::tuple<std::string, std::string, int64_t, int64_t, std::string>>
      Seen;
};

llvm::Expected<std::vector<Finding>> readText(llvm::StringRef Text,
                                              llvm::StringRef Name) {
  // "file:line:col: warning: message [check,alias]", as clang prints it.
  static const llvm::Regex Diagnostic(
      "^(.+):([0-9]+):([0-9]+): (warning|error|note): (.*)$");
  static const llvm::Regex CheckSuffix(" \\[([A-Za-z0-9_.,-]+)\\]$");
  std::vector<Finding> Findings;
  Deduplicator Dedup;
  Finding *Current = nullptr; // the finding the notes that follow belong to
  llvm::SmallVector<llvm::StringRef, 64> Lines;
  Text.split(Lines, '\n');
  for (llvm::StringRef Line : Lines) {
    Line = Line.rtrim("\r");
    llvm::SmallVector<llvm::StringRef, 6> Parts;
    if (!Diagnostic.match(Line, &Parts))
      continue; // source excerpts, carets, "N warnings generated."
    Site At{Parts[1].str(), 0, 0};
    Parts[2].getAsInteger(10, At.Line);
    Parts[3].getAsInteger(10, At.Column);
    llvm::StringRef Message = Parts[5];
    if (Parts[4] == "note") {
      if (Current)
        Current->Notes.push_back({std::move(At), Message.str()});
      continue;
    }
    Current = nullptr;
    llvm::SmallVector<llvm::StringRef, 2> Check;
    if (!CheckSuffix.match(Message, &Check))
      continue;
    llvm::StringRef CheckName = Check[1].split(',').first;
    if (!isCoroCheck(CheckName))
      continue;
    Finding F{CheckName.str(),
              std::move(At),
              Message.drop_back(Check[0].size()).str(),
              {}};
    if (!Dedup.firstTime(F))
      continue;
    Findings.push_back(std::move(F));
    Current = &Findings.back();
  }
  return Findings;
}

/// Line and column of byte offsets into files, read once each.
class OffsetResolver {
public:
  Site site(llvm::StringRef File, unsigned Offset) {
    Site S{File.str(), 0, 0};
    auto [It, Inserted] = LineStarts.try_emplace(File);
    if (Inserted) {
      if (auto Buffer = llvm::MemoryBuffer::getFile(File)) {
        It->second.push_back(0);
        llvm::StringRef Text = (*Buffer)->getBuffer();
        for (size_t I = 0; I < Text.size(); ++I)
          if (Text[I] == '\n')
            It->second.push_back(I + 1);
        It->second.push_back(Text.size() + 1);
      }
    }
    const std::vector<size_t> &Starts = It->second;
    if (Starts.empty() || Offset >= Starts.back())
      return S;
    auto Next = std::upper_bound(Starts.begin(), Starts.end(), Offset);
    S.Line = Next - Starts.begin();
    S.Column = Offset - *(Next - 1) + 1;
    return S;
  }

private:
  llvm::StringMap<std::vector<size_t>> LineStarts;
};

llvm::Expected<std::vector<Finding>> readYaml(llvm::StringRef Text,
                                              llvm::StringRef Name) {
  std::vector<Finding> Findings;
  Deduplicator Dedup;
  OffsetResolver Offsets;
  std::string Problem;
  llvm::yaml::Input In(
      Text, nullptr,
      [](const llvm::SMDiagnostic &Diag, void *Context) {
        auto &Out = *static_cast<std::string *>(Context);
        if (Out.empty())
          Out = "line " + std::to_string(Diag.getLineNo()) + ": " +
                Diag.getMessage().str();
      },
      &Problem);
  do {
    clang::tooling::TranslationUnitDiagnostics Unit;
    In >> Unit;
    if (In.error())
      return llvm::createStringError(
          In.error(), "%s: not clang-tidy output nor --export-fixes YAML: %s",
          Name.str().c_str(),
          Problem.empty() ? In.error().message().c_str() : Problem.c_str());
    for (const clang::tooling::Diagnostic &D : Unit.Diagnostics) {
      if (!isCoroCheck(D.DiagnosticName) ||
          D.DiagLevel == clang::tooling::Diagnostic::Remark)
        continue;
      const clang::tooling::DiagnosticMessage &M = D.Message;
      Finding F{D.DiagnosticName,
                Offsets.site(M.FilePath, M.FileOffset),
                M.Message,
                {}};
      for (const clang::tooling::DiagnosticMessage &N : D.Notes)
        F.Notes.push_back({Offsets.site(N.FilePath, N.FileOffset), N.Message});
      if (Dedup.firstTime(F))
        Findings.push_back(std::move(F));
    }
  } while (In.nextDocument());
  return Findings;
}

} // namespace

llvm::Expected<std::vector<Finding>> readFindings(llvm::StringRef Text,
                                                  llvm::StringRef Name) {
  llvm::StringRef First = Text.ltrim().split('\n').first.rtrim();
  if (First == "---" || First.starts_with("MainSourceFile:"))
    return readYaml(Text, Name);
  if (Text.contains('\0'))
    return llvm::createStringError(
        std::errc::invalid_argument,
        "%s: not clang-tidy output nor --export-fixes YAML: binary data",
        Name.str().c_str());
  return readText(Text, Name);
}

} // namespace coroscope::tool::triage
