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
// An instrumented construct is one Edit: its opener and its closer are made
// together or not at all, so markers and parentheses balance by
// construction, and the flat insertions are derived from the edits in one
// fixed order.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_INSTRUMENTER_H
#define COROSCOPE_REWRITER_INSTRUMENTER_H

#include "LibraryKnowledge.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/SourceLocation.h"
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
class Preprocessor;
} // namespace clang

namespace coroscope::rewriter {

inline constexpr llvm::StringLiteral OpenMarker = "/*coroscope:*/";
inline constexpr llvm::StringLiteral CloseMarker = "/*:coroscope*/";
/// What the file prefix holds between its markers.
inline constexpr llvm::StringLiteral PrefixText =
    "#include <coroscope/coroscope.hpp>\n#line 1\n";

struct Options {
  /// Headers (not the main file) are instrumented when their name matches.
  /// System headers never are.
  std::string HeaderFilter = ".*";
  /// Where library code is (LibraryKnowledge.h): coroutines a library
  /// defines are not tracked, wherever its headers come from.
  std::string LibraryNamespaces = DefaultLibraryNamespaces.str();
  std::string LibraryPaths = DefaultLibraryPaths.str();
};

struct Insertion {
  unsigned Offset;
  /// The rank among the insertions at one offset (see Edit).
  std::int64_t Order;
  std::string Text;
  bool operator<(const Insertion &O) const {
    return std::tie(Offset, Order, Text) < std::tie(O.Offset, O.Order, O.Text);
  }
};

/// One instrumented construct: a body (prologue and epilogue), a suspension
/// (the hook and its closing parenthesis) or a co_return (a prefix alone).
/// Texts are without their markers. At one offset, closers come first, inner
/// before outer, then openers, outer before inner; the file prefix is the
/// outermost opener.
struct Edit {
  unsigned OpenAt = 0;
  std::string Open;
  /// Where Close goes; Close is empty for a co_return's prefix.
  unsigned CloseAt = 0;
  std::string Close;
  /// What must match when another translation unit makes the edit at the
  /// same place: the texts and offsets, or for a body, where its sites are
  /// (a site's child flag may differ between translation units).
  std::string Identity;
  /// For a body and the edits that use its tracking object: the body, as
  /// "file:offset". Empty for a macro definition's edits.
  std::string Owner;
  /// For a macro definition's edits: the bodies that expand it.
  std::set<std::string> UsedBy;
  /// The translation units (indexes into FileEdits::Views) that made it.
  std::set<unsigned> SeenBy;
};

struct FileEdits {
  /// The name the compiler uses for the file.
  std::string Name;
  /// The name sites report: the main file's name as the compiler was given
  /// it, a header's real path, so that every translation unit including a
  /// header gives its inline coroutines the same site table.
  std::string SiteName;
  /// Keyed by the offset of the construct's first token: the body's opening
  /// brace, the keyword of a suspension or co_return. A header seen by many
  /// translation units gets each edit once.
  std::map<unsigned, Edit> Edits;
  /// Where the include prefix goes (after a UTF-8 byte order mark), and
  /// whether the file already starts with it.
  unsigned PrefixAt = 0;
  bool HasPrefix = false;
  /// The prefix and Edits as flat insertions, in application order (sorting
  /// keeps it). Derived from Edits; collectEdits keeps it up to date.
  std::vector<Insertion> Insertions;
  /// Offsets of instrumented coroutine bodies and sites, and of what was left
  /// alone, by reason. Sets, so a header seen by many translation units
  /// counts once.
  std::set<unsigned> CoroutinesAt, SitesAt, LocksAt;
  std::map<std::string, std::set<unsigned>> SkippedAt;
  /// Keys of constructs a translation unit could not instrument; no other
  /// translation unit instruments them either.
  std::set<unsigned> Refused;
  /// For each translation unit that read the file, the offset ranges its
  /// preprocessor skipped (#if branches not taken). A body or site edit is
  /// kept only if each of them made it too or skipped all its insertions:
  /// two #if branches may share a closing brace.
  std::vector<std::vector<std::pair<unsigned, unsigned>>> Views;
};

/// Keyed by the file's real path, so a header reached by many names or from
/// many translation units is one entry. Every project file a translation
/// unit reads has an entry, with or without insertions.
using EditSet = std::map<std::string, FileEdits>;

/// Adds the instrumentation of every coroutine written in the project files
/// of \p Ctx's translation unit to \p Out. Edits already present are not
/// made twice, so many translation units can share one set. With \p PP,
/// the translation unit's preprocessor, a project macro defined twice is
/// left alone: instrumenting the definition in use would make the other
/// one a redefinition.
void collectEdits(clang::ASTContext &Ctx, const Options &Opts, EditSet &Out,
                  clang::Preprocessor *PP = nullptr);

/// collectEdits, also checking the edits of other translation units against
/// the ranges \p Skipped this one's preprocessor skipped.
void collectEdits(clang::ASTContext &Ctx, const Options &Opts, EditSet &Out,
                  clang::Preprocessor *PP,
                  const std::vector<clang::SourceRange> &Skipped);

/// The flat insertions of \p Edits' edits and prefix, in application order.
std::vector<Insertion> flatten(const FileEdits &Edits);

/// A string literal that is one line of printable ASCII whatever \p Text
/// holds: other bytes are octal escapes, which denote the same bytes.
std::string quoted(llvm::StringRef Text);

/// "server.cpp: 3 coroutines, 12 sites, 1 skipped (1 suspension from a
/// system-header macro)".
std::string summarize(const FileEdits &Edits);

/// \p Original with \p Edits applied, and the include prefix unless the file
/// already has it. \p Original unchanged if the edits do not fit in it.
std::string applyEdits(llvm::StringRef Original, const FileEdits &Edits);

/// \p Text without any instrumentation, or std::nullopt and a one-line
/// \p Error naming the line. Only marker comments (not text in literals or
/// other comments) count, and only around texts the engine writes, with
/// openers and closers balanced.
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
