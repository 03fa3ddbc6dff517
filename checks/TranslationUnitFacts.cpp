//===--- TranslationUnitFacts.cpp - a TU's facts, from the AST ------------===//

#include "TranslationUnitFacts.h"
#include "coroscope/output.hpp"
#include "clang/AST/DeclCXX.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Index/USRGeneration.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/xxhash.h"

using namespace clang;

namespace coroscope {

std::string functionUsr(const FunctionDecl &FD, const FactsPlaces &Places) {
  llvm::SmallString<128> Usr;
  if (index::generateUSRForDecl(&FD, Usr))
    return "";
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
      Method && Method->getParent()->isLambda()) {
    lockgraph::Site At = Places.siteOf(Method->getParent()->getLocation());
    Usr += "@lambda@" + At.File + ":" + std::to_string(At.Line) + ":" +
           std::to_string(At.Column);
  }
  return std::string(Usr);
}

std::string definitionHash(const FunctionDecl &FD, StringRef Usr,
                           const ASTContext &Ctx) {
  const FunctionDecl *Written = &FD;
  if (const FunctionDecl *Pattern = FD.getTemplateInstantiationPattern())
    Written = Pattern;
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange Range = SM.getExpansionRange(Written->getSourceRange());
  StringRef Text = Lexer::getSourceText(Range, SM, Ctx.getLangOpts());
  return lockgraph::contentHash((Usr + "\n" + Text).str());
}

FactsPlaces::FactsPlaces(const ASTContext &Ctx, StringRef FactsRoot)
    : SM(Ctx.getSourceManager()) {
  if (auto CWD = SM.getFileManager()
                     .getVirtualFileSystem()
                     .getCurrentWorkingDirectory())
    WorkingDirectory = *CWD;
  Root =
      absolutePath(FactsRoot.empty() ? StringRef(WorkingDirectory) : FactsRoot);
  if (OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID()))
    TranslationUnit = relativePath(Main->getName());
}

std::string FactsPlaces::absolutePath(StringRef Path) const {
  llvm::SmallString<256> Absolute(Path);
  if (!WorkingDirectory.empty() && !llvm::sys::path::is_absolute(Absolute)) {
    Absolute = WorkingDirectory;
    llvm::sys::path::append(Absolute, Path);
  }
  llvm::sys::path::remove_dots(Absolute, /*remove_dot_dot=*/true);
  return std::string(Absolute);
}

std::string FactsPlaces::relativePath(StringRef Path) const {
  std::string Absolute = absolutePath(Path);
  StringRef Result = Absolute;
  if (!Root.empty() && Result.consume_front(Root) && !Result.empty() &&
      llvm::sys::path::is_separator(Result.front()))
    return Result.drop_front().str();
  return Absolute;
}

lockgraph::Site FactsPlaces::siteOf(SourceLocation Loc) const {
  Loc = SM.getExpansionLoc(Loc);
  PresumedLoc Presumed = SM.getPresumedLoc(Loc);
  if (Presumed.isInvalid())
    return {};
  return {relativePath(Presumed.getFilename()), Presumed.getLine(),
          Presumed.getColumn()};
}

std::vector<lockgraph::InputFact> FactsPlaces::inputs() const {
  std::vector<lockgraph::InputFact> Result;
  llvm::StringSet<> Seen;
  for (unsigned I = 0, E = SM.local_sloc_entry_size(); I < E; ++I) {
    const SrcMgr::SLocEntry &Entry = SM.getLocalSLocEntry(I);
    if (!Entry.isFile())
      continue;
    const SrcMgr::FileInfo &File = Entry.getFile();
    if (SrcMgr::isSystem(File.getFileCharacteristic()))
      continue;
    const SrcMgr::ContentCache &Content = File.getContentCache();
    if (!Content.OrigEntry)
      continue;
    std::string Name = relativePath(Content.OrigEntry->getName());
    if (!Seen.insert(Name).second)
      continue;
    std::optional<StringRef> Bytes = Content.getBufferDataIfLoaded();
    if (!Bytes)
      continue;
    Result.push_back({Name, lockgraph::contentHash(*Bytes)});
  }
  return Result;
}

std::string FactsPlaces::write(StringRef FactsDirectory, StringRef Suffix,
                               const std::string &Text) const {
  llvm::SmallString<256> Path(FactsDirectory);
  llvm::sys::path::append(
      Path, llvm::sys::path::filename(TranslationUnit) + "-" +
                llvm::utohexstr(llvm::xxh3_64bits(TranslationUnit),
                                /*LowerCase=*/true) +
                Suffix);
  // Never half a file for a parallel build to read, and never in place of
  // something that is not a facts file (output.hpp).
  std::string Reason;
  if (std::error_code Error = llvm::sys::fs::create_directories(FactsDirectory))
    return "'" + std::string(Path) + "': " + Error.message();
  if (output::write_file(std::string(Path), Text, Reason) ==
      output::status::written)
    return "";
  return "'" + std::string(Path) + "': " + Reason;
}

} // namespace coroscope
