//===--- Instrumenter.h - Coroutine instrumentation engine ------*- C++ -*-===//
//
// The one engine behind `coroscope instrument` and the compiler plugin: it
// reads a parsed translation unit and returns, per file, the text to insert
// so that every coroutine body and suspension point calls the runtime tracker
// (docs/runtime/README.md, "The contract with the rewriter").
//
// Every insertion is one line of text between the markers `/*coroscope:*/`
// and `/*:coroscope*/`, so no original token moves to another line and
// stripping is exact. A file gets one prefix, which includes the runtime and
// restores the line numbering with `#line 1`.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_INSTRUMENTER_H
#define COROSCOPE_REWRITER_INSTRUMENTER_H

#include "clang/AST/ASTConsumer.h"
#include "clang/Frontend/FrontendAction.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Regex.h"
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace clang {
class ASTContext;
class CompilerInstance;
} // namespace clang

namespace coroscope::rewriter {

inline constexpr llvm::StringLiteral OpenMarker = "/*coroscope:*/";
inline constexpr llvm::StringLiteral CloseMarker = "/*:coroscope*/";

struct Options {
  /// Headers (not the main file) are instrumented when their name matches.
  /// System headers never are.
  std::string HeaderFilter = ".*";
};

struct Insertion {
  unsigned Offset;
  /// Orders insertions at one offset: the file prefix, then closers of
  /// inner expressions before outer ones, then openers.
  std::int64_t Order;
  std::string Text;
  bool operator<(const Insertion &O) const {
    return std::tie(Offset, Order, Text) < std::tie(O.Offset, O.Order, O.Text);
  }
};

struct FileEdits {
  /// The name the compiler uses for the file; sites report it.
  std::string Name;
  std::vector<Insertion> Insertions;
  /// Offsets of instrumented coroutine bodies and sites, and of what was left
  /// alone, by reason. Sets, so a header seen by many translation units
  /// counts once.
  std::set<unsigned> CoroutinesAt, SitesAt;
  std::map<std::string, std::set<unsigned>> SkippedAt;
};

/// Keyed by the file's real path, so a header reached by many names or from
/// many translation units is one entry. Every project file a translation
/// unit reads has an entry, with or without insertions.
using EditSet = std::map<std::string, FileEdits>;

/// Adds the instrumentation of every coroutine written in the project files
/// of \p Ctx's translation unit to \p Out. Insertions already present are
/// not added twice, so many translation units can share one set.
void collectEdits(clang::ASTContext &Ctx, const Options &Opts, EditSet &Out);

/// "server.cpp: 3 coroutines, 12 sites, 1 skipped (1 suspension from a
/// system-header macro)".
std::string summarize(const FileEdits &Edits);

/// \p Original with \p Edits applied, and the include prefix unless the file
/// already has it.
std::string applyEdits(llvm::StringRef Original, const FileEdits &Edits);

/// \p Text without any instrumentation, or std::nullopt and \p Error when a
/// marker is unbalanced.
std::optional<std::string> stripInstrumentation(llvm::StringRef Text,
                                                std::string &Error);

/// True when a raw lexer finds co_await, co_yield or co_return in \p Text
/// (comments and literals do not count).
bool mentionsCoroutineKeyword(llvm::StringRef Text);

/// Parses for instrumentation: bodies of functions outside project files
/// are skipped and templates are not instantiated, since only the patterns
/// the user wrote are rewritten.
class InstrumentAction : public clang::ASTFrontendAction {
public:
  /// \p Succeeded is set when the translation unit parsed without errors.
  InstrumentAction(const Options &Opts, EditSet &Out, bool &Succeeded)
      : Opts(Opts), Out(Out), Succeeded(Succeeded) {}

protected:
  bool BeginInvocation(clang::CompilerInstance &CI) override;
  std::unique_ptr<clang::ASTConsumer>
  CreateASTConsumer(clang::CompilerInstance &CI, llvm::StringRef) override;

private:
  const Options &Opts;
  EditSet &Out;
  bool &Succeeded;
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_INSTRUMENTER_H
