//===--- CoroutineSiteTable.cpp - the IR engine's sites, from the AST -----===//

#include "CoroutineSiteTable.h"
#include "AwaitKnowledge.h"
#include "CoroutineKnowledge.h"
#include "SuspensionSites.h"

#include "coroscope/ir_abi.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Mangle.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace coroscope::rewriter {
namespace {

class TableBuilder : public RecursiveASTVisitor<TableBuilder> {
public:
  TableBuilder(ASTContext &Ctx, const Options &Opts, CoroutineSiteTable &Table)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Project(SM, Opts),
        Library(Opts.LibraryNamespaces, Opts.LibraryPaths), Tasks(Ctx),
        Names(Ctx), Table(Table) {}

  // Instantiations are what the IR holds: each gets its own entry.
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitImplicitCode() const { return true; }

  bool VisitFunctionDecl(FunctionDecl *FD) {
    if (FD->doesThisDeclarationHaveABody() && !FD->isDependentContext() &&
        isa_and_nonnull<CoroutineBodyStmt>(FD->getBody()))
      add(*FD);
    return true;
  }
  // A lambda's class is not among its context's declarations.
  bool VisitLambdaExpr(LambdaExpr *LE) {
    VisitFunctionDecl(LE->getCallOperator());
    if (FunctionTemplateDecl *Generic = LE->getDependentCallOperator())
      for (FunctionDecl *Instance : Generic->specializations())
        VisitFunctionDecl(Instance);
    return true;
  }

private:
  void add(const FunctionDecl &FD);

  ASTContext &Ctx;
  SourceManager &SM;
  ProjectFiles Project;
  LibraryBoundary Library;
  TaskClassifier Tasks;
  ASTNameGenerator Names;
  CoroutineSiteTable &Table;
};

std::uint8_t waitsFor(const Expr *Operand, TaskClassifier &Tasks,
                      const LibraryBoundary &Library) {
  switch (classifyAwaitOperand(Operand, Tasks, Library)) {
  case AwaitedOperation::Child:
    return COROSCOPE_IR_AWAITS_CHILD;
  case AwaitedOperation::Schedule:
    return COROSCOPE_IR_AWAITS_SCHEDULE;
  case AwaitedOperation::Timer:
    return COROSCOPE_IR_AWAITS_TIMER;
  case AwaitedOperation::TimerTask:
    return COROSCOPE_IR_AWAITS_TIMER_TASK;
  case AwaitedOperation::Event:
    break;
  }
  return COROSCOPE_IR_AWAITS_EVENT;
}

void TableBuilder::add(const FunctionDecl &FD) {
  const Stmt *User = userBody(FD);
  // A function-try-block comes wrapped in an implicit compound statement.
  if (const auto *Wrapper = dyn_cast_or_null<CompoundStmt>(User))
    if (Wrapper->getLBracLoc().isInvalid() && Wrapper->size() == 1)
      User = Wrapper->body_front();
  if (!User)
    return;
  SourceLocation Open = SM.getExpansionLoc(User->getBeginLoc());
  FileID File = SM.getFileID(Open);
  if (!Project.contains(File) || Library.isLibraryCode(FD))
    return;
  // A body the source engine instrumented reports itself.
  const Stmt *Inner = User;
  if (const auto *Try = dyn_cast<CXXTryStmt>(Inner))
    Inner = Try->getTryBlock();
  if (const auto *Body = dyn_cast<CompoundStmt>(Inner))
    if (hasSourceHooks(*Body))
      return;

  CoroutineInfo Info;
  Info.Function = reportFunctionName(FD);
  Info.File = siteFileName(SM, File);
  SourceLocation Named = FD.getLocation();
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&FD))
    if (Method->getParent()->isLambda())
      Named = Method->getParent()->getLocation();
  PresumedLoc At = SM.getPresumedLoc(SM.getExpansionLoc(Named));
  if (At.isInvalid())
    return;
  Info.Line = At.getLine();
  Info.Column = At.getColumn();

  SiteFinder Finder(Ctx);
  Finder.TraverseStmt(const_cast<Stmt *>(User));
  llvm::SmallPtrSet<const Stmt *, 4> TailYields;
  collectTailYields(User, TailYields);
  for (const SuspensionSite &Site : Finder.Sites) {
    if (isa<CoreturnStmt>(Site.S))
      continue;
    PresumedLoc Keyword =
        SM.getPresumedLoc(SM.getExpansionLoc(keywordLoc(Site.S)));
    if (Keyword.isInvalid())
      continue;
    bool Yield = isa<CoyieldExpr>(Site.S);
    SuspensionInfo Suspension;
    Suspension.InMacro = keywordLoc(Site.S).isMacroID();
    Suspension.Kind = !Yield ? COROSCOPE_IR_KIND_AWAIT
                      : TailYields.contains(Site.S)
                          ? COROSCOPE_IR_KIND_LAST_YIELD
                          : COROSCOPE_IR_KIND_YIELD;
    Suspension.Waits =
        Yield ? COROSCOPE_IR_AWAITS_EVENT
              : waitsFor(suspensionOperand(Site.S), Tasks, Library);
    // Two suspensions at one place (a macro's expansion) share a site.
    Info.Suspensions.try_emplace({Keyword.getLine(), Keyword.getColumn()},
                                 Suspension);
  }
  auto Operands = operandsOf(Finder.Sites);
  for (const CallExpr *Call : Finder.Calls) {
    SourceLocation Begin = creationCallBegin(*Call);
    // Written in a macro: the source engine leaves it too.
    if (!createsCoroutine(*Call, Tasks) || Begin.isMacroID() ||
        Call->getExprLoc().isMacroID())
      continue;
    const Stmt *AwaitedBy = Operands.lookup(Call);
    PresumedLoc At = SM.getPresumedLoc(
        AwaitedBy ? SM.getExpansionLoc(keywordLoc(AwaitedBy)) : Begin);
    if (At.isInvalid())
      continue;
    CreationInfo Creation{At.getLine(), At.getColumn(), AwaitedBy != nullptr};
    for (SourceLocation Loc :
         {Begin, Call->getBeginLoc(), Call->getExprLoc()})
      if (PresumedLoc Given = SM.getPresumedLoc(Loc); Given.isValid())
        Info.Creations.try_emplace({Given.getLine(), Given.getColumn()},
                                   Creation);
  }
  // Clang puts the initial suspension where the function is declared.
  PresumedLoc Declared =
      SM.getPresumedLoc(SM.getExpansionLoc(FD.getLocation()));
  if (Declared.isInvalid())
    return;
  Table.add(Names.getName(&FD), Declared.getFilename(), Declared.getLine(),
            Declared.getColumn(), std::move(Info));
}

class SiteTableConsumer : public ASTConsumer {
public:
  SiteTableConsumer(StringRef InFile, const Options &Opts,
                    std::shared_ptr<CoroutineSiteTable> Table)
      : InFile(InFile), Opts(Opts), Table(std::move(Table)) {}

  void HandleTranslationUnit(ASTContext &Ctx) override {
    if (Ctx.getDiagnostics().hasErrorOccurred())
      return;
    // The plugin never breaks a build: a crash here leaves the table empty,
    // and the file compiles unchanged.
    CoroutineSiteTable Built;
    if (!buildTableSafely(InFile, "the IR engine's site table",
                          "compiling the file unchanged", [&] {
          TableBuilder Builder(Ctx, Opts, Built);
          Builder.TraverseDecl(Ctx.getTranslationUnitDecl());
        }))
      return;
    *Table = std::move(Built);
  }

private:
  std::string InFile;
  Options Opts;
  std::shared_ptr<CoroutineSiteTable> Table;
};

} // namespace

CoroutineSiteTable::Place CoroutineSiteTable::placeOf(StringRef FileName,
                                                      unsigned Line,
                                                      unsigned Column) {
  return {llvm::sys::path::filename(FileName).str(), Line, Column};
}

void CoroutineSiteTable::add(std::string Symbol, StringRef FileName,
                             unsigned Line, unsigned Column,
                             CoroutineInfo Info) {
  if (BySymbol.count(Symbol))
    return;
  Place At = placeOf(FileName, Line, Column);
  unsigned Index = Coroutines.size();
  Coroutines.emplace_back(At, std::move(Info));
  BySymbol[Symbol] = Index;
  ByPlace.try_emplace(At, Index);
}

const CoroutineInfo *CoroutineSiteTable::find(StringRef Symbol,
                                              StringRef FileName, unsigned Line,
                                              unsigned Column) const {
  Place At = placeOf(FileName, Line, Column);
  auto Named = BySymbol.find(Symbol);
  if (Named != BySymbol.end() && Coroutines[Named->second].first == At)
    return &Coroutines[Named->second].second;
  auto Placed = ByPlace.find(At);
  return Placed == ByPlace.end() ? nullptr : &Coroutines[Placed->second].second;
}

std::unique_ptr<ASTConsumer>
makeCoroutineSiteConsumer(StringRef InFile, const Options &Opts,
                          std::shared_ptr<CoroutineSiteTable> Table) {
  return std::make_unique<SiteTableConsumer>(InFile, Opts, std::move(Table));
}

} // namespace coroscope::rewriter
