//===--- LockSiteTable.cpp - the IR engine's lock sites, from the AST -----===//

#include "LockSiteTable.h"
#include "CoroutineKnowledge.h"
#include "LibraryKnowledge.h"
#include "SuspensionSites.h"

#include "coroscope/ir_abi.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace coroscope::rewriter {
namespace {

class LockSiteBuilder : public RecursiveASTVisitor<LockSiteBuilder> {
public:
  LockSiteBuilder(ASTContext &Ctx, const Options &Opts, LockSiteTable &Table)
      : SM(Ctx.getSourceManager()), Project(SM, Opts),
        Library(Opts.LibraryNamespaces, Opts.LibraryPaths), Table(Table) {}

  bool shouldVisitTemplateInstantiations() const { return true; }

  bool VisitFunctionDecl(FunctionDecl *FD) {
    if (FD->doesThisDeclarationHaveABody() && !FD->isDependentContext())
      add(*FD);
    return true;
  }
  bool VisitLambdaExpr(LambdaExpr *LE) {
    VisitFunctionDecl(LE->getCallOperator());
    if (FunctionTemplateDecl *Generic = LE->getDependentCallOperator())
      for (FunctionDecl *Instance : Generic->specializations())
        VisitFunctionDecl(Instance);
    return true;
  }

private:
  void add(const FunctionDecl &FD);
  void record(const FunctionDecl &FD, const LockOperationSite &Site,
              std::initializer_list<SourceLocation> Places);

  SourceManager &SM;
  ProjectFiles Project;
  LibraryBoundary Library;
  LockSiteTable &Table;
};

void LockSiteBuilder::add(const FunctionDecl &FD) {
  const Stmt *Body = FD.getBody();
  if (!Body)
    return;
  FileID File = SM.getFileID(SM.getExpansionLoc(Body->getBeginLoc()));
  if (!Project.contains(File) || Library.isLibraryCode(FD))
    return;
  for (const LockOperationSite &Site : findLockOperations(FD)) {
    if (Site.Await) {
      // The call awaited gives the mutex; await_resume, at the co_await,
      // makes the guard.
      record(FD, Site,
             {Site.Guard->getLocation(), Site.Await->getKeywordLoc(),
              Site.Await->getExprLoc(), Site.Call->getBeginLoc(),
              Site.Call->getExprLoc()});
    } else if (Site.Guard) {
      const auto *Construct =
          cast<CXXConstructExpr>(Site.Guard->getInit()->IgnoreImplicit());
      record(FD, Site,
             {Site.Guard->getLocation(), Construct->getBeginLoc(),
              Construct->getLocation(), Site.Guard->getBeginLoc()});
    } else {
      record(FD, Site, {Site.Call->getBeginLoc(), Site.Call->getExprLoc()});
    }
  }
}

void LockSiteBuilder::record(const FunctionDecl &FD,
                             const LockOperationSite &Site,
                             std::initializer_list<SourceLocation> Places) {
  SourceLocation First = *Places.begin();
  if (First.isMacroID())
    First = SM.getExpansionLoc(First);
  PresumedLoc At = SM.getPresumedLoc(First);
  if (At.isInvalid())
    return;
  LockSiteInfo Info{Site.Operation,
                    Site.LockClass,
                    reportFunctionName(FD),
                    siteFileName(SM, SM.getFileID(First)),
                    At.getLine(),
                    At.getColumn(),
                    Site.Kind,
                    {}};
  if (Site.Call)
    if (const FunctionDecl *Callee = Site.Call->getDirectCallee())
      Info.Callee = Callee->getName().str();
  const LockSiteInfo &Kept = Table.add(std::move(Info));
  for (SourceLocation Place : Places) {
    PresumedLoc Given = SM.getPresumedLoc(SM.getExpansionLoc(Place));
    if (Given.isValid())
      Table.place(Given.getFilename(), Given.getLine(), Given.getColumn(),
                  Kept);
  }
}

class LockTableConsumer : public ASTConsumer {
public:
  LockTableConsumer(StringRef InFile, const Options &Opts,
                    std::shared_ptr<LockSiteTable> Table)
      : InFile(InFile), Opts(Opts), Table(std::move(Table)) {}

  void HandleTranslationUnit(ASTContext &Ctx) override {
    if (Ctx.getDiagnostics().hasErrorOccurred())
      return;
    // The plugin never breaks a build: a crash here leaves the table empty.
    LockSiteTable Built;
    if (!buildTableSafely(InFile, "the IR engine's lock table",
                          "no lock is tracked in this file", [&] {
                            LockSiteBuilder Builder(Ctx, Opts, Built);
                            Builder.TraverseDecl(Ctx.getTranslationUnitDecl());
                          }))
      return;
    *Table = std::move(Built);
  }

private:
  std::string InFile;
  Options Opts;
  std::shared_ptr<LockSiteTable> Table;
};

} // namespace

const LockSiteInfo &LockSiteTable::add(LockSiteInfo Info) {
  Sites.push_back(std::make_unique<LockSiteInfo>(std::move(Info)));
  return *Sites.back();
}

void LockSiteTable::place(StringRef FileName, unsigned Line, unsigned Column,
                          const LockSiteInfo &Site) {
  Places.try_emplace({llvm::sys::path::filename(FileName).str(), Line, Column},
                     &Site);
}

const LockSiteInfo *LockSiteTable::find(StringRef FileName, unsigned Line,
                                        unsigned Column) const {
  auto Found =
      Places.find({llvm::sys::path::filename(FileName).str(), Line, Column});
  return Found == Places.end() ? nullptr : Found->second;
}

std::unique_ptr<ASTConsumer>
makeLockSiteConsumer(StringRef InFile, const Options &Opts,
                     std::shared_ptr<LockSiteTable> Table) {
  return std::make_unique<LockTableConsumer>(InFile, Opts, std::move(Table));
}

bool mentionsLocks(StringRef Text) {
  return Text.contains("mutex") || Text.contains("lock_guard") ||
         Text.contains("scoped_lock") || Text.contains("unique_lock");
}

} // namespace coroscope::rewriter
