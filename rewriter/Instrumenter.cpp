//===--- Instrumenter.cpp - Coroutine instrumentation engine --------------===//

#include "Instrumenter.h"
#include "CoroutineKnowledge.h"

#include "clang/AST/ASTContext.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Lex/Lexer.h"
#include "clang/Sema/Sema.h"
#include "clang/Sema/SemaConsumer.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include <set>

using namespace clang;

namespace coroscope::rewriter {
namespace {

constexpr llvm::StringLiteral RuntimeInclude =
    "#include <coroscope/coroscope.hpp>";

std::string marked(llvm::StringRef Text) {
  return (OpenMarker + Text + CloseMarker).str();
}

std::string quoted(llvm::StringRef Text) {
  std::string Out = "\"";
  for (char C : Text) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

/// Which files are the project's: the main file, and headers that are not
/// system headers and match the header filter.
class ProjectFiles {
public:
  ProjectFiles(const SourceManager &SM, const Options &Opts)
      : SM(SM), Filter(Opts.HeaderFilter) {}

  bool contains(FileID FID) {
    if (FID.isInvalid())
      return false;
    auto [It, New] = Cache.try_emplace(FID, false);
    if (New)
      It->second = decide(FID);
    return It->second;
  }

  bool isSystem(FileID FID) const {
    return SrcMgr::isSystem(
        SM.getFileCharacteristic(SM.getLocForStartOfFile(FID)));
  }

private:
  bool decide(FileID FID) const {
    if (!SM.getFileEntryRefForID(FID))
      return false; // the predefines buffer, scratch space
    if (FID == SM.getMainFileID())
      return true;
    if (isSystem(FID))
      return false;
    return Filter.match(SM.getFileEntryRefForID(FID)->getName());
  }

  const SourceManager &SM;
  llvm::Regex Filter;
  llvm::DenseMap<FileID, bool> Cache;
};

struct SuspensionSite {
  const Stmt *S;    // CoawaitExpr, DependentCoawaitExpr, CoyieldExpr
                    // or CoreturnStmt
  bool InRangeInit; // in a range-for initializer
};

/// The suspension points and co_returns of one coroutine body, without
/// those of nested lambdas and local classes (functions of their own).
class SiteFinder : public EvaluatedCodeVisitor<SiteFinder> {
  using Base = EvaluatedCodeVisitor<SiteFinder>;

public:
  SiteFinder(const ASTContext &Ctx) : Base(Ctx) {}
  std::vector<SuspensionSite> Sites;

  bool VisitCoawaitExpr(CoawaitExpr *E) {
    if (!E->isImplicit())
      Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitDependentCoawaitExpr(DependentCoawaitExpr *E) {
    Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitCoyieldExpr(CoyieldExpr *E) {
    Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitCoreturnStmt(CoreturnStmt *S) {
    if (!S->isImplicit())
      Sites.push_back({S, false});
    return true;
  }
  bool TraverseCXXForRangeStmt(CXXForRangeStmt *S) {
    if ((S->getInit() && !TraverseStmt(S->getInit())) ||
        !TraverseStmt(S->getLoopVarStmt()))
      return false;
    ++RangeInitDepth;
    bool Continue = TraverseStmt(S->getRangeInit());
    --RangeInitDepth;
    return Continue && TraverseStmt(S->getBody());
  }

private:
  unsigned RangeInitDepth = 0;
};

const Expr *peel(const Expr *E) {
  while (true) {
    const Expr *Next = E->IgnoreImplicit()->IgnoreParens();
    if (Next == E)
      return E;
    E = Next;
  }
}

bool isCoroutineDefinition(const Decl *D) {
  if (const auto *Template = dyn_cast<FunctionTemplateDecl>(D))
    D = Template->getTemplatedDecl();
  const auto *FD = dyn_cast<FunctionDecl>(D);
  const FunctionDecl *Definition = FD ? FD->getDefinition() : nullptr;
  return Definition && isCoroutine(*Definition);
}

/// True when awaiting \p Operand starts a child coroutine that this one
/// waits for: a call of a coroutine defined in this translation unit, or an
/// operand whose type declares a promise. Asio operations are neither, so a
/// coroutine that starts while another waits on a timer is not its child.
bool startsChild(const Expr *Operand) {
  if (!Operand)
    return false;
  Operand = peel(Operand);
  if (!Operand->isTypeDependent() && declaresPromiseType(Operand->getType()))
    return true;
  const auto *Call = dyn_cast<CallExpr>(Operand);
  if (!Call)
    return false;
  if (const Decl *Callee = Call->getCalleeDecl())
    return isCoroutineDefinition(Callee);
  const Expr *Callee = peel(Call->getCallee());
  if (const auto *Overloads = dyn_cast<OverloadExpr>(Callee))
    return llvm::any_of(Overloads->decls(), isCoroutineDefinition);
  return false;
}

const Expr *suspensionOperand(const Stmt *S) {
  if (const auto *E = dyn_cast<CoroutineSuspendExpr>(S))
    return E->getOperand();
  if (const auto *E = dyn_cast<DependentCoawaitExpr>(S))
    return E->getOperand();
  return nullptr;
}

SourceLocation keywordLoc(const Stmt *S) {
  if (const auto *E = dyn_cast<CoroutineSuspendExpr>(S))
    return E->getKeywordLoc();
  if (const auto *E = dyn_cast<DependentCoawaitExpr>(S))
    return E->getKeywordLoc();
  return cast<CoreturnStmt>(S)->getKeywordLoc();
}

/// An instrumentation of a project macro's definition. It is applied once,
/// and only if every coroutine that expands it is instrumented too:
/// otherwise that coroutine would name a tracking object it does not have.
struct MacroSite {
  FileID File;
  std::vector<Insertion> Insertions;
  bool Blocked = false;
  bool Suspends = false;
};

class Collector {
public:
  Collector(ASTContext &Ctx, const Options &Opts, EditSet &Out)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()),
        Project(SM, Opts), Out(Out) {}

  void coroutine(const FunctionDecl &FD);
  void finish();

private:
  FileEdits &editsFor(FileID FID) {
    OptionalFileEntryRef Entry = SM.getFileEntryRefForID(FID);
    StringRef Real = Entry->getFileEntry().tryGetRealPathName();
    std::string Key = Real.empty() ? Entry->getName().str() : Real.str();
    FileEdits &Edits = Out[Key];
    if (Edits.Name.empty())
      Edits.Name = Entry->getName().str();
    return Edits;
  }
  void insert(FileEdits &Edits, unsigned Offset, std::int64_t Order,
              std::string Text) {
    Insertion New{Offset, Order, std::move(Text)};
    for (const Insertion &Old : Edits.Insertions)
      if (Old.Offset == New.Offset && Old.Text == New.Text)
        return;
    Edits.Insertions.push_back(std::move(New));
  }
  unsigned offsetOf(SourceLocation Loc) const { return SM.getFileOffset(Loc); }
  unsigned endOffsetOf(SourceLocation TokenLoc) const {
    return offsetOf(TokenLoc) + Lexer::MeasureTokenLength(TokenLoc, SM, LO);
  }
  bool alreadyInstrumented(const CompoundStmt &Body) const;
  // Edits is the coroutine's file, or null outside the project.
  void site(const SuspensionSite &Site, bool Instrument, FileEdits *Edits);
  void macroSite(const SuspensionSite &Site, bool Instrument, FileEdits *Edits);
  /// The hook before a suspension or co_return; a file site is appended to
  /// SiteList, the current coroutine's site array.
  std::string hook(const Stmt *S, SourceLocation Keyword, bool InMacro);

  ASTContext &Ctx;
  SourceManager &SM;
  const LangOptions &LO;
  ProjectFiles Project;
  EditSet &Out;
  std::map<std::pair<FileID, unsigned>, MacroSite> MacroSites;
  std::set<std::pair<FileID, unsigned>> SeenSites;
  std::vector<std::string> SiteList;
};

bool Collector::alreadyInstrumented(const CompoundStmt &Body) const {
  unsigned Looked = 0;
  for (const Stmt *S : Body.body()) {
    if (++Looked > 3)
      break;
    if (const auto *DS = dyn_cast<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        if (const auto *VD = dyn_cast<VarDecl>(D))
          if (VD->getName() == "coroscope_function_" ||
              VD->getName() == "coroscope_frame_")
            return true;
  }
  return false;
}

std::string Collector::hook(const Stmt *S, SourceLocation Keyword,
                            bool InMacro) {
  if (isa<CoreturnStmt>(S))
    return marked("COROSCOPE_I_RETURN ");
  bool Yield = isa<CoyieldExpr>(S);
  if (InMacro) {
    // A macro definition serves many operands; only call sites can tell
    // whether one starts a child.
    return marked(Yield ? "(COROSCOPE_I_YIELD_HERE(), "
                        : "(COROSCOPE_I_AWAIT_HERE(false), ");
  }
  PresumedLoc At = SM.getPresumedLoc(Keyword);
  bool Child = !Yield && startsChild(suspensionOperand(S));
  SiteList.push_back(
      ", COROSCOPE_I_SITE(" + std::string(Yield ? "yield" : "await") + ", " +
      std::to_string(At.getLine()) + ", " + std::to_string(At.getColumn()) +
      ", " + (Child ? "true" : "false") + ")");
  return marked("(COROSCOPE_I_AT(" + std::to_string(SiteList.size()) + "), ");
}

void Collector::coroutine(const FunctionDecl &FD) {
  const Stmt *User = userBody(FD);
  // A function-try-block comes wrapped in an implicit compound statement.
  // The tracking object goes in the try block; the handlers run after it is
  // destroyed, so their co_returns are left alone.
  if (const auto *Wrapper = dyn_cast_or_null<CompoundStmt>(User))
    if (Wrapper->getLBracLoc().isInvalid() && Wrapper->size() == 1)
      User = Wrapper->body_front();
  if (const auto *Try = dyn_cast_or_null<CXXTryStmt>(User))
    User = Try->getTryBlock();
  const auto *Body = dyn_cast_or_null<CompoundStmt>(User);
  if (!Body)
    return;
  SourceLocation Open = Body->getLBracLoc(), Close = Body->getRBracLoc();
  FileID File = SM.getFileID(SM.getExpansionLoc(Open));
  bool InProject = Project.contains(File);
  FileEdits *Edits = InProject ? &editsFor(File) : nullptr;

  std::string Skip;
  if (!InProject)
    Skip = "outside the project";
  else if (Open.isMacroID() || Close.isMacroID())
    Skip = "coroutine body written in a macro";
  else if (alreadyInstrumented(*Body))
    Skip = "coroutine already instrumented";
  bool Instrument = Skip.empty();

  SiteFinder Finder(Ctx);
  Finder.TraverseStmt(const_cast<CompoundStmt *>(Body));
  SiteList.clear();
  // A coroutine left alone is still walked: project macros it expands must
  // not be instrumented either.
  for (const SuspensionSite &Site : Finder.Sites)
    site(Site, Instrument, Edits);
  if (!Edits)
    return;
  if (!Instrument) {
    Edits->SkippedAt[Skip].insert(offsetOf(Open));
    return;
  }
  SourceLocation Named = FD.getLocation();
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&FD))
    if (Method->getParent()->isLambda())
      Named = Method->getParent()->getLocation();
  PresumedLoc At = SM.getPresumedLoc(SM.getExpansionLoc(Named));
  std::string Prologue = "COROSCOPE_I_BODY(" + quoted(Edits->Name) + ", " +
                         quoted(reportFunctionName(FD)) + ", " +
                         std::to_string(At.getLine()) + ", " +
                         std::to_string(At.getColumn());
  for (const std::string &Site : SiteList)
    Prologue += Site;
  Prologue += ") COROSCOPE_TRY {";
  insert(*Edits, offsetOf(Open) + 1, 0, marked(Prologue));
  insert(*Edits, offsetOf(Close), 0,
         marked("COROSCOPE_I_END } COROSCOPE_CATCH"));
  Edits->CoroutinesAt.insert(offsetOf(Open));
}

void Collector::site(const SuspensionSite &Site, bool Instrument,
                     FileEdits *Edits) {
  SourceLocation Keyword = keywordLoc(Site.S);
  bool IsReturn = isa<CoreturnStmt>(Site.S);
  if (Keyword.isMacroID() && !SM.isMacroArgExpansion(Keyword)) {
    macroSite(Site, Instrument, Edits);
    return;
  }
  if (!Instrument)
    return;
  if (Site.InRangeInit && LO.CPlusPlus23) {
    Edits
        ->SkippedAt["suspension in a range-for initializer (C++23 keeps "
                    "its temporaries for the whole loop)"]
        .insert(offsetOf(Keyword));
    return;
  }
  // Written in the file, or by the user in a macro argument.
  SourceLocation End = IsReturn ? Keyword : Site.S->getEndLoc();
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(Keyword, End), SM, LO);
  if (Range.isInvalid() ||
      !Lexer::getSourceText(Range, SM, LO)
           .starts_with(IsReturn ? "co_return"
                                 : (isa<CoyieldExpr>(Site.S) ? "co_yield"
                                                             : "co_await"))) {
    Edits->SkippedAt["suspension whose operand crosses a macro boundary"]
        .insert(offsetOf(SM.getExpansionLoc(Keyword)));
    return;
  }
  unsigned Begin = offsetOf(Range.getBegin());
  FileID File = SM.getFileID(Range.getBegin());
  if (!SeenSites.insert({File, Begin}).second)
    return; // a macro argument expanded twice
  FileEdits &Target = editsFor(File);
  insert(Target, Begin, 1, hook(Site.S, Range.getBegin(), false));
  if (!IsReturn) {
    insert(Target, offsetOf(Range.getEnd()), -1 - std::int64_t(Begin),
           marked(")"));
    Target.SitesAt.insert(Begin);
  }
}

void Collector::macroSite(const SuspensionSite &Site, bool Instrument,
                          FileEdits *Edits) {
  SourceLocation Keyword = keywordLoc(Site.S);
  SourceLocation Spelled = SM.getSpellingLoc(Keyword);
  FileID DefinedIn = SM.getFileID(Spelled);
  bool IsReturn = isa<CoreturnStmt>(Site.S);
  if (Project.isSystem(DefinedIn) || !Project.contains(DefinedIn)) {
    if (Instrument && !IsReturn)
      Edits
          ->SkippedAt[Project.isSystem(DefinedIn)
                          ? "suspension from a system-header macro"
                          : "suspension from a macro outside the project"]
          .insert(offsetOf(SM.getExpansionLoc(Keyword)));
    return;
  }
  auto Key = std::make_pair(DefinedIn, offsetOf(Spelled));
  MacroSite &Macro = MacroSites[Key];
  Macro.File = DefinedIn;
  Macro.Blocked |= !Instrument;
  if (!Macro.Insertions.empty() || Macro.Blocked)
    return;
  Macro.Insertions.push_back({Key.second, 1, hook(Site.S, Keyword, true)});
  if (IsReturn)
    return;
  // The operand's last token, as written in the same definition: a macro
  // parameter maps back to where it appears in the replacement list.
  FileID Expansion = SM.getFileID(Keyword);
  SourceLocation End = Site.S->getEndLoc();
  for (int Depth = 0;
       Depth < 16 && End.isMacroID() && SM.getFileID(End) != Expansion; ++Depth)
    End = SM.isMacroArgExpansion(End)
              ? SM.getImmediateExpansionRange(End).getBegin()
              : SourceLocation();
  SourceLocation EndSpelled = End.isValid() && SM.getFileID(End) == Expansion
                                  ? SM.getSpellingLoc(End)
                                  : SourceLocation();
  if (EndSpelled.isInvalid() || SM.getFileID(EndSpelled) != DefinedIn ||
      offsetOf(EndSpelled) < Key.second) {
    Macro.Insertions.clear();
    Macro.Blocked = true;
    if (Edits)
      Edits
          ->SkippedAt["suspension in a macro whose operand cannot be "
                      "mapped to its definition"]
          .insert(offsetOf(SM.getExpansionLoc(Keyword)));
    return;
  }
  Macro.Insertions.push_back(
      {endOffsetOf(EndSpelled), -1 - std::int64_t(Key.second), marked(")")});
  Macro.Suspends = true;
}

void Collector::finish() {
  for (auto &[Key, Macro] : MacroSites) {
    FileEdits &Edits = editsFor(Macro.File);
    if (Macro.Blocked) {
      if (Macro.Suspends || !Macro.Insertions.empty())
        Edits
            .SkippedAt["project macro also expanded in a coroutine that is "
                       "not instrumented"]
            .insert(Key.second);
      continue;
    }
    for (Insertion &I : Macro.Insertions)
      insert(Edits, I.Offset, I.Order, I.Text);
    if (Macro.Suspends)
      Edits.SitesAt.insert(Key.second);
  }
  // Every project file gets an entry, so a mirrored tree is complete.
  for (unsigned I = 0, N = SM.local_sloc_entry_size(); I < N; ++I) {
    const SrcMgr::SLocEntry &Entry = SM.getLocalSLocEntry(I);
    if (!Entry.isFile())
      continue;
    FileID FID = SM.getFileID(SourceLocation::getFromRawEncoding(
        static_cast<SourceLocation::UIntTy>(Entry.getOffset())));
    if (Project.contains(FID))
      editsFor(FID);
  }
}

class CoroutineVisitor : public RecursiveASTVisitor<CoroutineVisitor> {
public:
  explicit CoroutineVisitor(Collector &C) : C(C) {}
  bool shouldVisitTemplateInstantiations() const { return false; }
  bool VisitFunctionDecl(FunctionDecl *FD) {
    const auto *Method = dyn_cast<CXXMethodDecl>(FD);
    if (!(Method && Method->getParent()->isLambda()) &&
        FD->doesThisDeclarationHaveABody() && isCoroutine(*FD))
      C.coroutine(*FD);
    return true;
  }
  bool VisitLambdaExpr(LambdaExpr *LE) {
    if (CXXMethodDecl *Call = LE->getCallOperator(); isCoroutine(*Call))
      C.coroutine(*Call);
    return true;
  }

private:
  Collector &C;
};

class InstrumentConsumer : public SemaConsumer {
public:
  InstrumentConsumer(const Options &Opts, EditSet &Out, bool &Succeeded)
      : Opts(Opts), Out(Out), Succeeded(Succeeded) {}

  void Initialize(ASTContext &Ctx) override {
    Project.emplace(Ctx.getSourceManager(), Opts);
    SM = &Ctx.getSourceManager();
  }
  void InitializeSema(Sema &S) override { TheSema = &S; }
  void ForgetSema() override { TheSema = nullptr; }

  // Only bodies in project files can hold a coroutine to rewrite.
  bool shouldSkipFunctionBody(Decl *D) override {
    return !Project->contains(
        SM->getFileID(SM->getExpansionLoc(D->getLocation())));
  }
  // Instantiations are copies of patterns we already see; not making them
  // saves most of a template-heavy parse.
  // The check for functions used but never defined would then fail on the
  // instantiations that were never made, so it is emptied too.
  bool HandleTopLevelDecl(DeclGroupRef) override {
    if (TheSema) {
      TheSema->PendingInstantiations.clear();
      TheSema->UndefinedButUsed.clear();
    }
    return true;
  }
  void HandleTranslationUnit(ASTContext &Ctx) override {
    if (Ctx.getDiagnostics().hasErrorOccurred())
      return;
    Collector C(Ctx, Opts, Out);
    CoroutineVisitor(C).TraverseDecl(Ctx.getTranslationUnitDecl());
    C.finish();
    Succeeded = true;
  }

private:
  const Options &Opts;
  EditSet &Out;
  bool &Succeeded;
  std::optional<ProjectFiles> Project;
  const SourceManager *SM = nullptr;
  Sema *TheSema = nullptr;
};

} // namespace

void collectEdits(ASTContext &Ctx, const Options &Opts, EditSet &Out) {
  Collector C(Ctx, Opts, Out);
  CoroutineVisitor(C).TraverseDecl(Ctx.getTranslationUnitDecl());
  C.finish();
}

bool InstrumentAction::BeginInvocation(CompilerInstance &CI) {
  Succeeded = false;
  CI.getFrontendOpts().SkipFunctionBodies = true;
  // Only errors tell whether the file can be rewritten; -Werror must not.
  CI.getDiagnostics().setIgnoreAllWarnings(true);
  CI.getDiagnostics().setExtensionHandlingBehavior(diag::Severity::Ignored);
  return true;
}

std::unique_ptr<ASTConsumer>
InstrumentAction::CreateASTConsumer(CompilerInstance &, StringRef) {
  return std::make_unique<InstrumentConsumer>(Opts, Out, Succeeded);
}

std::string summarize(const FileEdits &Edits) {
  auto Plural = [](unsigned N, StringRef Word) {
    return std::to_string(N) + " " + Word.str() + (N == 1 ? "" : "s");
  };
  std::string Text = Edits.Name + ": " +
                     Plural(Edits.CoroutinesAt.size(), "coroutine") + ", " +
                     Plural(Edits.SitesAt.size(), "site");
  unsigned Skipped = 0;
  std::string Why;
  for (const auto &[Reason, At] : Edits.SkippedAt) {
    unsigned Count = At.size();
    Skipped += Count;
    Why += (Why.empty() ? "" : "; ") + std::to_string(Count) + " " + Reason;
  }
  if (Skipped)
    Text += ", " + std::to_string(Skipped) + " skipped (" + Why + ")";
  return Text;
}

std::string applyEdits(StringRef Original, const FileEdits &Edits) {
  std::vector<Insertion> Sorted = Edits.Insertions;
  llvm::sort(Sorted);
  std::string Text;
  Text.reserve(Original.size() + Sorted.size() * 64 + 128);
  if (!Sorted.empty() &&
      !Original.starts_with(OpenMarker.str() + RuntimeInclude.str()))
    Text += marked((RuntimeInclude + "\n#line 1\n").str());
  unsigned Done = 0;
  for (const Insertion &I : Sorted) {
    Text.append(Original.data() + Done, I.Offset - Done);
    Text += I.Text;
    Done = I.Offset;
  }
  Text.append(Original.data() + Done, Original.size() - Done);
  return Text;
}

std::optional<std::string> stripInstrumentation(StringRef Text,
                                                std::string &Error) {
  std::string Out;
  Out.reserve(Text.size());
  while (true) {
    size_t Open = Text.find(OpenMarker);
    size_t StrayClose = Text.find(CloseMarker);
    if (StrayClose < Open) {
      Error = "'" + CloseMarker.str() + "' without a matching '" +
              OpenMarker.str() + "'";
      return std::nullopt;
    }
    if (Open == StringRef::npos) {
      Out += Text;
      return Out;
    }
    Out += Text.take_front(Open);
    StringRef Rest = Text.drop_front(Open + OpenMarker.size());
    size_t Close = Rest.find(CloseMarker);
    if (Close == StringRef::npos ||
        Rest.take_front(Close).contains(OpenMarker)) {
      Error = "'" + OpenMarker.str() + "' without a matching '" +
              CloseMarker.str() + "'";
      return std::nullopt;
    }
    Text = Rest.drop_front(Close + CloseMarker.size());
  }
}

bool mentionsCoroutineKeyword(StringRef Text) {
  LangOptions LO;
  LO.CPlusPlus = LO.CPlusPlus11 = LO.CPlusPlus20 = true;
  Lexer Raw(SourceLocation(), LO, Text.begin(), Text.begin(), Text.end());
  Token Tok;
  while (true) {
    bool AtEnd = Raw.LexFromRawLexer(Tok);
    if (Tok.is(tok::raw_identifier)) {
      StringRef Name = Tok.getRawIdentifier();
      if (Name == "co_await" || Name == "co_yield" || Name == "co_return")
        return true;
    }
    if (AtEnd)
      return false;
  }
}

} // namespace coroscope::rewriter
