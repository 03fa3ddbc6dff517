//===--- FindingsByLocation.h - pattern-first findings of one TU ----------===//
//
// A check that analyses template patterns and their instantiations sees the
// same written place several times. Findings are kept per location until the
// end of the translation unit: the pattern's finding wins, and a place found
// only in instantiations keeps the first one, named for a note.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_FINDINGSBYLOCATION_H
#define COROSCOPE_CHECKS_FINDINGSBYLOCATION_H

#include "CoroutineKnowledge.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

/// The part of a finding this container fills in.
struct InstantiationNote {
  /// Set when the place is found only in a template instantiation.
  std::string Name;
  clang::SourceLocation Loc;
};

/// \p Finding has `clang::SourceLocation Loc` and
/// `InstantiationNote Instantiation`.
template <typename Finding> class FindingsByLocation {
public:
  /// Records \p F, found while analysing \p FD.
  void add(const clang::FunctionDecl &FD, Finding F) {
    Slot &S = Slots[F.Loc];
    if (!isInstantiated(FD)) {
      if (!S.FromPattern)
        S.FromPattern = std::move(F);
      return;
    }
    if (S.FromInstantiation)
      return;
    std::tie(F.Instantiation.Name, F.Instantiation.Loc) =
        describeInstantiation(FD);
    S.FromInstantiation = std::move(F);
  }

  /// One finding per place, in translation-unit order.
  std::vector<const Finding *> ordered(const clang::SourceManager &SM) const {
    std::vector<const Finding *> Result;
    for (const auto &Entry : Slots)
      Result.push_back(Entry.second.FromPattern
                           ? &*Entry.second.FromPattern
                           : &*Entry.second.FromInstantiation);
    llvm::sort(Result, [&](const Finding *A, const Finding *B) {
      return SM.isBeforeInTranslationUnit(A->Loc, B->Loc);
    });
    return Result;
  }

private:
  struct Slot {
    std::optional<Finding> FromPattern;
    std::optional<Finding> FromInstantiation;
  };
  llvm::DenseMap<clang::SourceLocation, Slot> Slots;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_FINDINGSBYLOCATION_H
