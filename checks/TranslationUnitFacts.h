//===--- TranslationUnitFacts.h - a TU's facts, from the AST --------------===//
//
// What the checks that write facts files share: the stable identity of a
// function (its USR), the hash of its definition, the TU's input files with
// their hashes, how places are spelled (relative to FactsRoot), and writing
// the file into FactsDirectory.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_TRANSLATIONUNITFACTS_H
#define COROSCOPE_CHECKS_TRANSLATIONUNITFACTS_H

#include "FactsFile.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include <string>
#include <vector>

namespace coroscope {

class FactsPlaces;

/// The function's USR: the same in every TU that sees it ("" when clang
/// cannot name it). A lambda's call operator gets its place appended:
/// clang gives every lambda of one template specialization the same USR.
std::string functionUsr(const clang::FunctionDecl &FD,
                        const FactsPlaces &Places);

/// The hash of \p FD's definition as written (its template's, for an
/// instantiation, with \p Usr, its USR, which names the arguments), so
/// every TU that summarises one inline function gives it the same hash.
std::string definitionHash(const clang::FunctionDecl &FD, llvm::StringRef Usr,
                           const clang::ASTContext &Ctx);

/// How a TU's facts spell files, and where they go.
class FactsPlaces {
public:
  /// \p FactsRoot is what sites are relative to; empty means the
  /// compilation's working directory.
  FactsPlaces(const clang::ASTContext &Ctx, llvm::StringRef FactsRoot);

  /// \p Path relative to the root when it is under it; absolute otherwise.
  std::string relativePath(llvm::StringRef Path) const;
  /// The site of \p Loc (its expansion, for code in macros).
  lockgraph::Site siteOf(clang::SourceLocation Loc) const;
  /// The main file, relative to the root.
  const std::string &translationUnit() const { return TranslationUnit; }
  /// Every file the TU was compiled from, outside system headers, with the
  /// hash of its contents: what makes facts stale when it changes.
  std::vector<lockgraph::InputFact> inputs() const;

  /// Writes \p Text to <FactsDirectory>/<main file>-<hash><Suffix>,
  /// atomically; "" on success, else "'<path>': <reason>".
  std::string write(llvm::StringRef FactsDirectory, llvm::StringRef Suffix,
                    const std::string &Text) const;

private:
  std::string absolutePath(llvm::StringRef Path) const;

  const clang::SourceManager &SM;
  std::string WorkingDirectory;
  std::string Root;
  std::string TranslationUnit;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_TRANSLATIONUNITFACTS_H
