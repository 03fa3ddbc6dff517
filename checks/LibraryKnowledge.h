//===--- LibraryKnowledge.h - where the user's code ends ------------------===//
//
// Library internals are opaque: the checks neither analyse the functions a
// library defines nor follow calls into them, and the instrumentation does
// not track their coroutines. What a library call does counts only through
// the catalogues (BlockingCatalogue: `asio::read` blocks,
// `steady_timer::expires_after` does not).
//
// The boundary is decided by namespaces and paths, not by include flags: an
// Asio or a Boost found through -I, or a copy vendored under third_party/,
// is as much a library as one under /usr/include. System headers always
// are. Both lists are options (LibraryNamespaces, LibraryPaths).
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_LIBRARYKNOWLEDGE_H
#define COROSCOPE_CHECKS_LIBRARYKNOWLEDGE_H

#include "clang/AST/Decl.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Regex.h"
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

/// Namespaces whose code is a library's by default: the standard library,
/// Asio, Boost and folly. A project that is one of them sets the option.
inline constexpr llvm::StringLiteral DefaultLibraryNamespaces =
    "std;__gnu_cxx;__cxxabiv1;asio;boost;folly";
/// Paths of vendored and fetched dependencies.
inline constexpr llvm::StringLiteral DefaultLibraryPaths =
    "(^|/)(third_party|thirdparty|third-party|vendor|external|_deps)/";

class LibraryBoundary {
public:
  /// \p Namespaces: ';'- or ','-separated, "asio" covers asio and
  /// asio::detail, a leading "::" is optional. \p Paths: a regular
  /// expression searched in the file name a declaration is spelled in;
  /// empty for none.
  LibraryBoundary(llvm::StringRef Namespaces = DefaultLibraryNamespaces,
                  llvm::StringRef Paths = DefaultLibraryPaths);

  /// True when \p D is a library's: in a system header, in one of the
  /// namespaces (inline and anonymous namespaces are transparent), or in a
  /// file whose name matches the paths.
  bool isLibraryCode(const clang::Decl &D) const;

  /// A problem with the options, for a configuration error.
  const std::optional<std::string> &error() const { return Error; }

private:
  bool inLibraryNamespace(const clang::DeclContext *DC) const;

  std::vector<std::string> Namespaces;
  std::optional<llvm::Regex> Paths;
  std::optional<std::string> Error;
  mutable llvm::DenseMap<const clang::DeclContext *, bool> NamespaceCache;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_LIBRARYKNOWLEDGE_H
