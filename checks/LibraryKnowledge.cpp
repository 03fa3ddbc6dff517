//===--- LibraryKnowledge.cpp - where the user's code ends ----------------===//

#include "LibraryKnowledge.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallVector.h"

using namespace clang;

namespace coroscope {

LibraryBoundary::LibraryBoundary(llvm::StringRef NamespaceList,
                                 llvm::StringRef PathPattern) {
  // ';' as in clang-tidy options; ',' where a ';' cannot go (a compiler
  // flag in a shell command).
  llvm::SmallVector<llvm::StringRef, 8> Groups, Parts;
  NamespaceList.split(Groups, ';', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef Group : Groups)
    Group.split(Parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef Part : Parts) {
    Part = Part.trim();
    Part.consume_front("::");
    if (!Part.empty())
      Namespaces.push_back(Part.str());
  }
  if (PathPattern.trim().empty())
    return;
  llvm::Regex Pattern(PathPattern);
  std::string Why;
  if (!Pattern.isValid(Why)) {
    Error = "invalid regular expression in option 'LibraryPaths': '" +
            PathPattern.str() + "': " + Why;
    return;
  }
  Paths = std::move(Pattern);
}

bool LibraryBoundary::inLibraryNamespace(const DeclContext *DC) const {
  DC = DC->getPrimaryContext();
  auto [It, Inserted] = NamespaceCache.try_emplace(DC, false);
  if (!Inserted)
    return It->second;
  // The namespace path, without inline and anonymous namespaces.
  llvm::SmallVector<llvm::StringRef, 4> Path;
  for (const DeclContext *C = DC; C && !C->isTranslationUnit();
       C = C->getParent())
    if (const auto *NS = dyn_cast<NamespaceDecl>(C))
      if (!NS->isInline() && !NS->isAnonymousNamespace())
        Path.push_back(NS->getName());
  std::string Qualified;
  bool Found = false;
  for (auto Name = Path.rbegin(); Name != Path.rend() && !Found; ++Name) {
    Qualified += (Qualified.empty() ? "" : "::") + Name->str();
    Found = llvm::is_contained(Namespaces, Qualified);
  }
  return NamespaceCache[DC] = Found;
}

bool LibraryBoundary::isLibraryCode(const Decl &D) const {
  const SourceManager &SM = D.getASTContext().getSourceManager();
  SourceLocation Loc = SM.getExpansionLoc(D.getLocation());
  if (SM.isInSystemHeader(Loc))
    return true;
  if (!Namespaces.empty() && inLibraryNamespace(D.getDeclContext()))
    return true;
  return Paths && Paths->match(SM.getFilename(Loc));
}

} // namespace coroscope
