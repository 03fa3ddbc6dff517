//===--- LockSiteTable.cpp - the IR engine's lock sites, from the AST -----===//

#include "LockSiteTable.h"
#include "CoroutineKnowledge.h"
#include "LibraryKnowledge.h"
#include "LockKnowledge.h"
#include "SuspensionSites.h"

#include "coroscope/ir_abi.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace coroscope::rewriter {
namespace {

/// One function's body, without the lambdas in it (visited on their own).
class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool VisitVarDecl(VarDecl *VD) {
    Vars.push_back(VD);
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    Referenced.insert(Ref->getDecl());
    return true;
  }
  bool VisitCallExpr(CallExpr *Call) {
    Calls.push_back(Call);
    return true;
  }
  std::vector<const VarDecl *> Vars;
  std::vector<const CallExpr *> Calls;
  llvm::DenseSet<const Decl *> Referenced;
};

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
  void record(const FunctionDecl &FD, LockOperation Operation,
              const Expr *Mutex, std::uint8_t Kind,
              std::initializer_list<SourceLocation> Places);

  SourceManager &SM;
  ProjectFiles Project;
  LibraryBoundary Library;
  LockSiteTable &Table;
};

bool isShared(const CXXRecordDecl &Guard) {
  return plainQualifiedName(Guard) == "std::shared_lock";
}

void LockSiteBuilder::add(const FunctionDecl &FD) {
  const Stmt *Body = FD.getBody();
  if (!Body)
    return;
  FileID File = SM.getFileID(SM.getExpansionLoc(Body->getBeginLoc()));
  if (!Project.contains(File) || Library.isLibraryCode(FD))
    return;
  BodyScan Scan;
  Scan.TraverseStmt(const_cast<Stmt *>(Body));
  for (const VarDecl *Guard : Scan.Vars) {
    const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(
        Guard->getInit() ? Guard->getInit()->IgnoreImplicit() : nullptr);
    if (!Construct)
      continue;
    std::optional<GuardConstruction> Made =
        classifyGuardConstruction(*Construct);
    if (!Made || !Made->Blocks || !Made->Owns || Made->Mutexes.size() != 1)
      continue;
    const CXXRecordDecl *Class = Construct->getConstructor()->getParent();
    // A unique_lock or shared_lock may be unlocked, moved or waited on (a
    // condition variable unlocks it) before its end: only one the body
    // never names again holds its lock for its whole scope.
    std::string Name = plainQualifiedName(*Class);
    if ((Name == "std::unique_lock" || Name == "std::shared_lock") &&
        Scan.Referenced.contains(Guard))
      continue;
    record(FD, LockOperation::Guard, Made->Mutexes.front(),
           isShared(*Class) ? COROSCOPE_IR_LOCK_KIND_SHARED
                            : COROSCOPE_IR_LOCK_KIND_MUTEX,
           {Guard->getLocation(), Construct->getBeginLoc(),
            Construct->getLocation(), Guard->getBeginLoc()});
  }
  for (const CallExpr *Call : Scan.Calls) {
    std::optional<ManualLockCall> Manual = classifyManualLockCall(*Call);
    if (!Manual)
      continue;
    std::uint8_t Kind = COROSCOPE_IR_LOCK_KIND_MUTEX;
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *Method = Member->getMethodDecl())
        if (Method->getName().ends_with("_shared"))
          Kind = COROSCOPE_IR_LOCK_KIND_SHARED;
    record(FD, Manual->Acquires ? LockOperation::Lock : LockOperation::Unlock,
           Manual->Mutex, Kind, {Call->getBeginLoc(), Call->getExprLoc()});
  }
}

void LockSiteBuilder::record(const FunctionDecl &FD, LockOperation Operation,
                             const Expr *Mutex, std::uint8_t Kind,
                             std::initializer_list<SourceLocation> Places) {
  std::string Class = lockClassName(Mutex, [](const FunctionDecl &Function) {
    return plainQualifiedName(Function);
  });
  // A local or a parameter has no class of its own.
  if (Class.empty())
    return;
  SourceLocation First = *Places.begin();
  if (First.isMacroID())
    First = SM.getExpansionLoc(First);
  PresumedLoc At = SM.getPresumedLoc(First);
  if (At.isInvalid())
    return;
  LockSiteInfo Info{Operation,
                    Class,
                    reportFunctionName(FD),
                    siteFileName(SM, SM.getFileID(First)),
                    At.getLine(),
                    At.getColumn(),
                    Kind};
  for (SourceLocation Place : Places) {
    PresumedLoc Given = SM.getPresumedLoc(SM.getExpansionLoc(Place));
    if (Given.isValid())
      Table.add(Given.getFilename(), Given.getLine(), Given.getColumn(), Info);
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

void LockSiteTable::add(StringRef FileName, unsigned Line, unsigned Column,
                        const LockSiteInfo &Info) {
  Sites.try_emplace({llvm::sys::path::filename(FileName).str(), Line, Column},
                    Info);
}

const LockSiteInfo *LockSiteTable::find(StringRef FileName, unsigned Line,
                                        unsigned Column) const {
  auto Found =
      Sites.find({llvm::sys::path::filename(FileName).str(), Line, Column});
  return Found == Sites.end() ? nullptr : &Found->second;
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
