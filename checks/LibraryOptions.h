//===--- LibraryOptions.h - the library boundary as check options ---------===//
//
// Every coro check takes LibraryNamespaces and LibraryPaths, read check by
// check or, when a check does not set them, from the global CheckOptions
// entries of the same name: one setting serves all the checks.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_LIBRARYOPTIONS_H
#define COROSCOPE_CHECKS_LIBRARYOPTIONS_H

#include "BlockingCatalogue.h"
#include "LibraryKnowledge.h"

#include "clang-tidy/ClangTidyCheck.h"
#include <initializer_list>
#include <utility>

namespace coroscope {

struct LibraryOptions {
  /// Reads the options of \p Check (named \p CheckName) and reports an
  /// invalid one as its configuration error.
  LibraryOptions(clang::tidy::ClangTidyCheck &Check, llvm::StringRef CheckName,
                 clang::tidy::ClangTidyCheck::OptionsView &Options)
      : Namespaces(Options.getLocalOrGlobal("LibraryNamespaces",
                                            DefaultLibraryNamespaces.str())),
        Paths(Options.getLocalOrGlobal("LibraryPaths",
                                       DefaultLibraryPaths.str())),
        Boundary(Namespaces, Paths) {
    if (const std::optional<std::string> &Error = Boundary.error())
      Check.configurationDiag("%0 of '%1'", clang::DiagnosticIDs::Error)
          << *Error << CheckName;
  }

  void store(clang::tidy::ClangTidyCheck::OptionsView &Options,
             clang::tidy::ClangTidyOptions::OptionMap &Opts) const {
    Options.store(Opts, "LibraryNamespaces", Namespaces);
    Options.store(Opts, "LibraryPaths", Paths);
  }

  std::string Namespaces, Paths;
  LibraryBoundary Boundary;
};

/// Reports every invalid regular expression in the name-list options
/// \p Lists (option name, parsed list) of \p Check (named \p CheckName) as
/// a configuration error.
inline void reportInvalidNameLists(
    clang::tidy::ClangTidyCheck &Check, llvm::StringRef CheckName,
    std::initializer_list<std::pair<llvm::StringRef, const NameList *>>
        Lists) {
  for (const auto &[Option, List] : Lists)
    for (const std::string &Error : List->errors())
      Check.configurationDiag(
          "invalid regular expression in option '%0' of '%1': %2",
          clang::DiagnosticIDs::Error)
          << Option << CheckName << Error;
}

} // namespace coroscope

#endif // COROSCOPE_CHECKS_LIBRARYOPTIONS_H
