//===--- Instrumenter.cpp - Coroutine instrumentation engine --------------===//

#include "Instrumenter.h"
#include "AwaitKnowledge.h"
#include "CoroutineKnowledge.h"
#include "EmittedForms.h"
#include "LockEdits.h"
#include "SuspensionSites.h"

#include "clang/AST/ASTContext.h"
#include "clang/Basic/LangStandard.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/MacroInfo.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Sema/Sema.h"
#include "clang/Sema/SemaConsumer.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Triple.h"
#include <climits>
#include <set>

using namespace clang;

namespace coroscope::rewriter {

std::string quoted(llvm::StringRef Text) {
  std::string Out = "\"";
  for (unsigned char C : Text) {
    if (C == '"' || C == '\\') {
      Out += '\\';
      Out += C;
    } else if (C < 0x20 || C >= 0x7f) {
      Out += '\\';
      Out += char('0' + (C >> 6));
      Out += char('0' + ((C >> 3) & 7));
      Out += char('0' + (C & 7));
    } else {
      Out += C;
    }
  }
  return Out + "\"";
}

namespace {

std::string marked(llvm::StringRef Text) {
  return (OpenMarker + Text + CloseMarker).str();
}

std::string identity(const Edit &E) {
  return std::to_string(E.OpenAt) + "|" + E.Open + "|" +
         std::to_string(E.CloseAt) + "|" + E.Close;
}

/// An instrumentation of a project macro's definition. It is made once,
/// only if every coroutine that expands it is instrumented too (otherwise
/// that coroutine would name a tracking object it does not have), and only
/// if every expansion puts its closer in the same place.
struct MacroSite {
  FileID File;
  std::optional<Edit> Made;
  std::set<std::string> Owners;
  bool Blocked = false;
  bool Wanted = false;
  std::string Why;
};

/// An edit of the coroutine being collected, made when the whole body is.
struct PendingEdit {
  FileID File;
  std::string FileKey;
  unsigned Key;
  Edit E;
  bool IsSuspension;
};

constexpr llvm::StringLiteral MacroBlockedReason =
    "project macro also expanded in a coroutine that is not instrumented";
constexpr llvm::StringLiteral DifferentEndsReason =
    "suspension in a macro whose operand ends in different places";
constexpr llvm::StringLiteral SeenDifferentlyReason =
    "coroutine seen differently by two translation units";

class Collector {
public:
  Collector(ASTContext &Ctx, const Options &Opts, EditSet &Out,
            Preprocessor *PP, const std::vector<SourceRange> *Skipped)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()),
        Project(SM, Opts), Library(Opts.LibraryNamespaces, Opts.LibraryPaths),
        Tasks(Ctx), Out(Out), PP(PP), Skipped(Skipped) {}

  void coroutine(const FunctionDecl &FD);
  /// Marks \p FD's lock operations (LockEdits.h), in the files that have
  /// instrumented coroutines.
  void locks(const FunctionDecl &FD);
  void finish();

private:
  std::string fileKey(FileID FID) const {
    OptionalFileEntryRef Entry = SM.getFileEntryRefForID(FID);
    StringRef Real = Entry->getFileEntry().tryGetRealPathName();
    return Real.empty() ? Entry->getName().str() : Real.str();
  }
  FileEdits &editsFor(FileID FID) {
    std::string Key = fileKey(FID);
    Touched.insert(Key);
    FileEdits &Edits = Out[Key];
    if (Edits.Name.empty()) {
      Edits.Name = SM.getFileEntryRefForID(FID)->getName().str();
      Edits.SiteName = FID == SM.getMainFileID() ? Edits.Name : Key;
      // The prefix goes after a byte order mark: before it, the mark would
      // be a stray character in the middle of the file.
      StringRef Text = SM.getBufferData(FID);
      Edits.PrefixAt = Text.starts_with(ByteOrderMark) ? 3 : 0;
      Edits.HasPrefix =
          Text.drop_front(Edits.PrefixAt).starts_with(marked(PrefixText));
    }
    if (Skipped) {
      auto [Seen, New] = ViewFile.try_emplace(Key, FID);
      if (New) {
        View[Key] = Edits.Views.size();
        Edits.Views.push_back(skippedIn(FID));
      } else if (Seen->second != FID) {
        // Read twice, maybe under other macros: take all of it as active.
        Edits.Views[View[Key]].clear();
      }
    }
    return Edits;
  }
  std::vector<std::pair<unsigned, unsigned>> skippedIn(FileID FID) const {
    std::vector<std::pair<unsigned, unsigned>> Ranges;
    for (SourceRange R : *Skipped)
      if (R.getBegin().isFileID() && SM.getFileID(R.getBegin()) == FID &&
          SM.getFileID(R.getEnd()) == FID)
        Ranges.push_back({offsetOf(R.getBegin()), offsetOf(R.getEnd())});
    return Ranges;
  }
  void seen(const std::string &File, Edit &E) {
    if (Skipped)
      E.SeenBy.insert(View[File]);
  }
  /// Drops the bodies whose edits another translation unit would compile
  /// without having made them.
  void checkViews();
  unsigned offsetOf(SourceLocation Loc) const { return SM.getFileOffset(Loc); }
  // The real length: `<%` is one token of two characters.
  unsigned endOffsetOf(SourceLocation TokenLoc) const {
    return offsetOf(TokenLoc) + Lexer::MeasureTokenLength(TokenLoc, SM, LO);
  }
  bool afterSlash(FileID File, unsigned Offset);
  // Edits is the coroutine's file, or null outside the project.
  void site(const SuspensionSite &Site, bool Instrument, FileEdits *Edits);
  /// Marks a call that creates a coroutine (`co_spawn(ex, f(), detached)`)
  /// with a creation site, unless a suspension's hook starts there.
  void creation(const CallExpr &Call,
                const llvm::DenseMap<const Expr *, const Stmt *> &Operands);
  /// \p Keyword is where the expansion uses the definition's keyword.
  void macroSite(const SuspensionSite &Site, SourceLocation Keyword,
                 bool Instrument, FileEdits *Edits);
  SourceLocation locationIn(FileID In, SourceLocation Loc) const;
  bool redefined(SourceLocation Keyword, SourceLocation Spelled);
  /// The hook before a suspension or co_return; a file site is appended to
  /// SiteList, the current coroutine's site array.
  /// \p OnOperand: the hook goes on the operand, `co_await ((void)hook, X)`,
  /// instead of before the keyword, `(hook, co_await X)`.
  std::string hook(const Stmt *S, SourceLocation Keyword, bool InMacro,
                   bool OnOperand = false);
  /// Where the hook goes on the operand: the offset of its first token, or
  /// nullopt when it must go before the keyword.
  std::optional<unsigned> operandHookAt(const Stmt *S, FileID File,
                                        unsigned End) const;
  void commitBody(FileID File, unsigned Key, Edit Body);
  /// Takes back every edit of the body \p Owner, in every file, and the
  /// macro edits it expands.
  void removeOwned(const std::string &Owner);

  ASTContext &Ctx;
  SourceManager &SM;
  const LangOptions &LO;
  ProjectFiles Project;
  LibraryBoundary Library;
  TaskClassifier Tasks;
  EditSet &Out;
  Preprocessor *PP;
  const std::vector<SourceRange> *Skipped;
  // This translation unit's view of each file it read.
  std::map<std::string, FileID> ViewFile;
  std::map<std::string, unsigned> View;
  std::set<std::pair<std::string, unsigned>> Made;
  std::map<std::pair<FileID, unsigned>, MacroSite> MacroSites;
  std::set<std::pair<FileID, unsigned>> SeenSites;
  llvm::DenseMap<FileID, llvm::DenseSet<unsigned>> SlashEnds;
  std::set<std::string> Touched;
  // The coroutine being collected.
  std::string Owner;
  std::vector<std::string> SiteList;
  llvm::SmallPtrSet<const Stmt *, 4> TailYields;
  llvm::SmallPtrSet<const Stmt *, 4> InitializesObject;
  std::vector<PendingEdit> Pending;
  std::vector<std::pair<FileID, unsigned>> ExpandedMacros;
  // Lock edits, by file, kept in finish() where coroutines are instrumented.
  std::map<std::string, std::vector<Edit>> LockEditsOf;
};

/// True when the text before \p Offset ends with a `/` token, through line
/// splices: a marker there would make `//*`, a line comment.
bool Collector::afterSlash(FileID File, unsigned Offset) {
  StringRef Text = SM.getBufferData(File);
  unsigned At = std::min<unsigned>(Offset, Text.size());
  while (true) {
    unsigned Back = At;
    if (Back && Text[Back - 1] == '\n')
      --Back;
    if (Back && Text[Back - 1] == '\r')
      --Back;
    if (Back == At)
      break;
    while (Back && (Text[Back - 1] == ' ' || Text[Back - 1] == '\t'))
      --Back;
    if (!Back || Text[Back - 1] != '\\')
      break;
    At = Back - 1;
  }
  if (!At || Text[At - 1] != '/')
    return false;
  // A `/` that ends a comment is harmless; only a lexer can tell.
  auto [It, New] = SlashEnds.try_emplace(File);
  if (New) {
    Lexer Raw(SM.getLocForStartOfFile(File), LO, Text.begin(), Text.begin(),
              Text.end());
    Token Tok;
    while (!Raw.LexFromRawLexer(Tok))
      if (Tok.is(tok::slash))
        It->second.insert(offsetOf(Tok.getLocation()) + Tok.getLength());
  }
  return It->second.contains(At);
}

std::string Collector::hook(const Stmt *S, SourceLocation Keyword,
                            bool InMacro, bool OnOperand) {
  if (isa<CoreturnStmt>(S))
    return ReturnPrefix.str();
  bool Yield = isa<CoyieldExpr>(S);
  if (InMacro) {
    // A macro definition serves operands of every kind: what it waits for
    // is unknown there, as in a template.
    return Yield ? "(COROSCOPE_I_YIELD_HERE(), "
                 : "(COROSCOPE_I_AWAIT_HERE(child), ";
  }
  PresumedLoc At = SM.getPresumedLoc(Keyword);
  StringRef Waits = "event";
  if (!Yield)
    switch (classifyAwaitOperand(suspensionOperand(S), Tasks, Library)) {
    case AwaitedOperation::Child:
      Waits = "child";
      break;
    case AwaitedOperation::Schedule:
      Waits = "schedule";
      break;
    case AwaitedOperation::Timer:
      Waits = "timer";
      break;
    case AwaitedOperation::TimerTask:
      Waits = "timer_task";
      break;
    case AwaitedOperation::Event:
      break;
    }
  StringRef Kind = !Yield                 ? "await"
                   : TailYields.contains(S) ? "last_yield"
                                            : "yield";
  SiteList.push_back(", COROSCOPE_I_SITE(" + Kind.str() + ", " +
                     std::to_string(At.getLine()) + ", " +
                     std::to_string(At.getColumn()) + ", " + Waits.str() + ")");
  return (OnOperand ? "((void)COROSCOPE_I_AT(" : "(COROSCOPE_I_AT(") +
         std::to_string(SiteList.size()) + "), ";
}

/// In a template, whether \p E may denote an existing object rather than
/// make one: a name, a member, a dereference, a cast to a reference or
/// `decltype` type (cppcoro's `static_cast<decltype(aw)>(aw)`), or
/// std::move/std::forward of one.
bool mayDenoteObject(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (isa<DeclRefExpr, DependentScopeDeclRefExpr, MemberExpr,
          CXXDependentScopeMemberExpr>(E))
    return true;
  if (const auto *Unary = dyn_cast<UnaryOperator>(E))
    return Unary->getOpcode() == UO_Deref;
  if (const auto *Cast = dyn_cast<ExplicitCastExpr>(E)) {
    QualType To = Cast->getTypeAsWritten();
    return To->isReferenceType() || isa<DecltypeType>(To.getTypePtr());
  }
  if (const auto *Call = dyn_cast<CallExpr>(E)) {
    const Expr *Callee = Call->getCallee()->IgnoreParenImpCasts();
    DeclarationName Name;
    if (const auto *Lookup = dyn_cast<UnresolvedLookupExpr>(Callee))
      Name = Lookup->getName();
    else if (const auto *Ref = dyn_cast<DeclRefExpr>(Callee))
      Name = Ref->getDecl()->getDeclName();
    const IdentifierInfo *Id = Name.getAsIdentifierInfo();
    return Call->getNumArgs() == 1 && Id &&
           (Id->isStr("move") || Id->isStr("forward"));
  }
  return false;
}

/// True when \p Operand may be an object that is itself the awaiter, named
/// as an lvalue or cast to an xvalue: g++ 12 awaits a copy of it when it is
/// the operand of a comma (GCC PR 105406), so its hook stays before the
/// keyword.
bool mayBeAwaiterLvalue(const Expr *Operand) {
  const Expr *E = Operand->IgnoreParenImpCasts();
  if (E->isTypeDependent())
    return mayDenoteObject(E);
  if (!E->isGLValue())
    return false;
  const CXXRecordDecl *Class = classForMembers(E->getType());
  if (!Class)
    return false;
  const IdentifierInfo &Ready = Class->getASTContext().Idents.get("await_ready");
  return !Class->lookup(&Ready).empty();
}

std::optional<unsigned> Collector::operandHookAt(const Stmt *S, FileID File,
                                                 unsigned End) const {
  // co_yield keeps its hook before the keyword: its operand may be a braced
  // list, which no parenthesis can hold.
  if (isa<CoyieldExpr>(S))
    return std::nullopt;
  // Of g++ 12's two bugs, a by-value initialization's byte copy corrupts
  // memory; awaiting a copy of an awaiter only loses its state.
  const Expr *Operand = suspensionOperand(S);
  if (!Operand ||
      (mayBeAwaiterLvalue(Operand) && !InitializesObject.contains(S)))
    return std::nullopt;
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(Operand->getBeginLoc(), S->getEndLoc()),
      SM, LO);
  if (Range.isInvalid() || SM.getFileID(Range.getBegin()) != File ||
      offsetOf(Range.getEnd()) != End)
    return std::nullopt;
  return offsetOf(Range.getBegin());
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
  // A library's coroutines are its internals, wherever its headers are.
  bool InProject = Project.contains(File) && !Library.isLibraryCode(FD);
  FileEdits *Edits = InProject ? &editsFor(File) : nullptr;

  std::string Skip;
  if (!InProject)
    Skip = "outside the project";
  else if (Open.isMacroID() || Close.isMacroID())
    Skip = "coroutine body written in a macro";
  else if (SM.getFileID(Close) != File)
    // Its prologue and epilogue would be in two files.
    Skip = "coroutine body that ends in another file";
  else if (hasSourceHooks(*Body))
    Skip = "coroutine already instrumented";
  bool Instrument = Skip.empty();

  SiteFinder Finder(Ctx);
  Finder.TraverseStmt(const_cast<CompoundStmt *>(Body));
  Owner = InProject ? fileKey(File) + ":" + std::to_string(offsetOf(Open)) : "";
  InitializesObject = std::move(Finder.InitializesObject);
  SiteList.clear();
  TailYields.clear();
  collectTailYields(Body, TailYields);
  Pending.clear();
  ExpandedMacros.clear();
  // A coroutine left alone is still walked: project macros it expands must
  // not be instrumented either.
  for (const SuspensionSite &Site : Finder.Sites)
    site(Site, Instrument, Edits);
  if (Instrument && Edits) {
    // A call awaited or yielded right away is created where it is awaited.
    auto Operands = operandsOf(Finder.Sites);
    for (const CallExpr *Call : Finder.Calls)
      creation(*Call, Operands);
  }
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
  Edit BodyEdit;
  BodyEdit.Open = "COROSCOPE_I_BODY(" + quoted(Edits->SiteName) + ", " +
                  quoted(reportFunctionName(FD)) + ", " +
                  std::to_string(At.getLine()) + ", " +
                  std::to_string(At.getColumn());
  for (const std::string &Site : SiteList)
    BodyEdit.Open += Site;
  BodyEdit.Open += ") COROSCOPE_TRY {";
  BodyEdit.OpenAt = endOffsetOf(Open);
  BodyEdit.Close = BodyClose.str();
  BodyEdit.CloseAt = offsetOf(Close);
  // Every text of the body, its site table included: two translation units
  // that would instrument it differently leave it alone (commitBody).
  BodyEdit.Identity = identity(BodyEdit);
  BodyEdit.Owner = Owner;
  commitBody(File, offsetOf(Open), std::move(BodyEdit));
}

void Collector::locks(const FunctionDecl &FD) {
  const Stmt *Body = FD.getBody();
  if (!Body)
    return;
  FileID File = SM.getFileID(SM.getExpansionLoc(Body->getBeginLoc()));
  if (!Project.contains(File) || Library.isLibraryCode(FD))
    return;
  FileEdits &Edits = editsFor(File);
  for (LockEdit &Made : lockEdits(FD, Ctx, File, Edits.SiteName)) {
    Edit E;
    E.OpenAt = Made.OpenAt;
    E.Open = std::move(Made.Open);
    E.CloseAt = Made.CloseAt;
    E.Close = std::move(Made.Close);
    E.Identity = identity(E);
    LockEditsOf[fileKey(File)].push_back(std::move(E));
  }
}

void Collector::commitBody(FileID File, unsigned Key, Edit Body) {
  FileEdits &Edits = editsFor(File);
  // Another translation unit may have made this body with other sites (an
  // #if inside it): the site numbers would not agree, so neither is kept.
  auto Conflicts = [&](FileEdits &In, unsigned At, const Edit &E) {
    if (In.Refused.count(At))
      return true;
    auto Made = In.Edits.find(At);
    return Made != In.Edits.end() && Made->second.Identity != E.Identity;
  };
  bool Refuse = Conflicts(Edits, Key, Body);
  for (PendingEdit &P : Pending)
    Refuse = Refuse || Conflicts(editsFor(P.File), P.Key, P.E);
  if (Refuse) {
    removeOwned(Owner);
    Edits.Refused.insert(Key);
    Edits.SkippedAt[SeenDifferentlyReason.str()].insert(Key);
    for (const auto &Macro : ExpandedMacros)
      MacroSites[Macro].Blocked = true;
    return;
  }
  std::string BodyFile = fileKey(File);
  auto [Made, New] = Edits.Edits.try_emplace(Key, std::move(Body));
  seen(BodyFile, Made->second);
  if (New)
    this->Made.insert({BodyFile, Key});
  Edits.CoroutinesAt.insert(Key);
  for (PendingEdit &P : Pending) {
    FileEdits &Target = editsFor(P.File);
    auto [Site, New] = Target.Edits.try_emplace(P.Key, std::move(P.E));
    seen(P.FileKey, Site->second);
    if (New)
      this->Made.insert({P.FileKey, P.Key});
    if (P.IsSuspension)
      Target.SitesAt.insert(P.Key);
  }
  for (const auto &Macro : ExpandedMacros)
    MacroSites[Macro].Owners.insert(Owner);
}

void Collector::removeOwned(const std::string &Body) {
  for (auto &[Key, File] : Out) {
    bool Changed = false;
    for (auto It = File.Edits.begin(); It != File.Edits.end();) {
      const Edit &E = It->second;
      bool Mine = E.Owner == Body;
      if (!Mine && E.UsedBy.count(Body)) {
        // The macro would name a tracking object the body no longer has.
        File.Refused.insert(It->first);
        File.SkippedAt[MacroBlockedReason.str()].insert(It->first);
        Mine = true;
      }
      if (!Mine) {
        ++It;
        continue;
      }
      File.SitesAt.erase(It->first);
      File.CoroutinesAt.erase(It->first);
      It = File.Edits.erase(It);
      Changed = true;
    }
    if (Changed)
      Touched.insert(Key);
  }
}

void Collector::site(const SuspensionSite &Site, bool Instrument,
                     FileEdits *Edits) {
  SourceLocation Keyword = keywordLoc(Site.S);
  bool IsReturn = isa<CoreturnStmt>(Site.S);
  // A keyword that comes through a macro argument may still be written in a
  // macro's definition: AWAIT(AWAIT(x)).
  SourceLocation Origin = Keyword;
  while (Origin.isMacroID() && SM.isMacroArgExpansion(Origin))
    Origin = SM.getImmediateSpellingLoc(Origin);
  if (Origin.isMacroID()) {
    macroSite(Site, Origin, Instrument, Edits);
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
  // The range must start at the keyword itself (spelled through line
  // splices or not), not at a macro name.
  llvm::SmallString<16> Buffer;
  bool Invalid = false;
  if (Range.isInvalid() ||
      Lexer::getSpelling(Range.getBegin(), Buffer, SM, LO, &Invalid) !=
          (IsReturn ? "co_return"
                    : (isa<CoyieldExpr>(Site.S) ? "co_yield" : "co_await")) ||
      Invalid) {
    Edits->SkippedAt["suspension whose operand crosses a macro boundary"]
        .insert(offsetOf(SM.getExpansionLoc(Keyword)));
    return;
  }
  unsigned Begin = offsetOf(Range.getBegin());
  FileID File = SM.getFileID(Range.getBegin());
  if (!SeenSites.insert({File, Begin}).second)
    return; // a macro argument expanded twice
  PendingEdit P{File, fileKey(File), Begin, Edit(), !IsReturn};
  P.E.OpenAt = Begin;
  if (!IsReturn) {
    P.E.CloseAt = offsetOf(Range.getEnd());
    P.E.Close = SuspensionClose.str();
    // On the operand: g++ 12 copies a class object's bytes when a
    // declaration is initialized from `(hook, co_await X)` (docs/tools/
    // instrument.md, "The two forms of a suspension's hook").
    if (std::optional<unsigned> At = operandHookAt(Site.S, File, P.E.CloseAt))
      P.E.OpenAt = *At;
  }
  bool OnOperand = P.E.OpenAt != Begin;
  if (!OnOperand && afterSlash(File, Begin)) {
    Edits
        ->SkippedAt["suspension right after a '/' (the marker would start a "
                    "comment)"]
        .insert(offsetOf(SM.getExpansionLoc(Keyword)));
    return;
  }
  P.E.Open = hook(Site.S, Range.getBegin(), false, OnOperand);
  P.E.Identity = identity(P.E);
  P.E.Owner = Owner;
  Pending.push_back(std::move(P));
}

void Collector::creation(
    const CallExpr &Call,
    const llvm::DenseMap<const Expr *, const Stmt *> &Operands) {
  if (!createsCoroutine(Call, Tasks) || Operands.count(&Call))
    return;
  SourceLocation Begin = creationCallBegin(Call), End = Call.getEndLoc();
  // Written in the file: a call in a macro serves every expansion.
  if (Begin.isInvalid() || End.isInvalid() || Begin.isMacroID() ||
      End.isMacroID())
    return;
  FileID File = SM.getFileID(Begin);
  if (SM.getFileID(End) != File)
    return;
  unsigned Open = offsetOf(Begin);
  if (afterSlash(File, Open) || !SeenSites.insert({File, Open}).second)
    return;
  PresumedLoc At = SM.getPresumedLoc(Begin);
  SiteList.push_back(", COROSCOPE_I_SITE(creation, " +
                     std::to_string(At.getLine()) + ", " +
                     std::to_string(At.getColumn()) + ", event)");
  PendingEdit P{File, fileKey(File), Open, Edit(), false};
  P.E.OpenAt = Open;
  P.E.Open = "(COROSCOPE_I_CREATE(" + std::to_string(SiteList.size()) + "), ";
  P.E.CloseAt = endOffsetOf(End);
  P.E.Close = SuspensionClose.str();
  P.E.Identity = identity(P.E);
  P.E.Owner = Owner;
  Pending.push_back(std::move(P));
}

/// Where \p Loc, a token of an expansion, appears in the expansion \p In:
/// through macro arguments, to the parameter or the argument that holds it.
SourceLocation Collector::locationIn(FileID In, SourceLocation Loc) const {
  llvm::SmallVector<SourceLocation, 8> Work{Loc};
  for (unsigned Next = 0; Next < Work.size() && Next < 64; ++Next) {
    SourceLocation At = Work[Next];
    if (!At.isMacroID())
      continue;
    if (SM.getFileID(At) == In)
      return At;
    if (SM.isMacroArgExpansion(At)) {
      Work.push_back(SM.getImmediateExpansionRange(At).getBegin());
      Work.push_back(SM.getImmediateSpellingLoc(At));
    }
  }
  return SourceLocation();
}

/// True when the macro that \p Keyword comes from is defined again with no
/// #undef between: the definitions are then identical, and instrumenting
/// the one in use would make the other a redefinition. The keyword's copies
/// in the other definitions are blocked too, for the translation units
/// that use those.
bool Collector::redefined(SourceLocation Keyword, SourceLocation Spelled) {
  if (!PP)
    return false;
  const IdentifierInfo *Name =
      PP->getIdentifierInfo(Lexer::getImmediateMacroName(Keyword, SM, LO));
  std::vector<const MacroInfo *> Definitions;
  bool Redefined = false, LaterIsDefinition = false;
  for (const MacroDirective *MD = PP->getLocalMacroDirectiveHistory(Name); MD;
       MD = MD->getPrevious()) {
    if (const auto *Def = dyn_cast<DefMacroDirective>(MD)) {
      Redefined |= LaterIsDefinition;
      LaterIsDefinition = true;
      Definitions.push_back(Def->getInfo());
    } else if (isa<UndefMacroDirective>(MD)) {
      LaterIsDefinition = false;
    }
  }
  if (!Redefined)
    return false;
  std::optional<unsigned> Index;
  for (const MacroInfo *MI : Definitions)
    for (unsigned I = 0, N = MI->getNumTokens(); I < N && !Index; ++I)
      if (MI->getReplacementToken(I).getLocation() == Spelled)
        Index = I;
  for (const MacroInfo *MI : Definitions) {
    if (!Index || *Index >= MI->getNumTokens())
      continue;
    SourceLocation Copy = MI->getReplacementToken(*Index).getLocation();
    FileID In = SM.getFileID(Copy);
    if (Copy.isFileID() && Project.contains(In)) {
      MacroSite &Other = MacroSites[{In, offsetOf(Copy)}];
      Other.File = In;
      Other.Blocked = true;
    }
  }
  return true;
}

void Collector::macroSite(const SuspensionSite &Site, SourceLocation Keyword,
                          bool Instrument, FileEdits *Edits) {
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
  if (!Instrument)
    return;
  Macro.Wanted = true;
  ExpandedMacros.push_back(Key);
  if (Macro.Blocked)
    return;
  auto Block = [&](StringRef Why) {
    Macro.Blocked = true;
    Macro.Why = Why.str();
    if (Edits)
      Edits->SkippedAt[Why.str()].insert(offsetOf(SM.getExpansionLoc(Keyword)));
  };
  if (afterSlash(DefinedIn, Key.second))
    return Block("suspension right after a '/' (the marker would start a "
                 "comment)");
  if (redefined(Keyword, Spelled))
    return Block("suspension in a macro that is defined twice");
  Edit E;
  E.OpenAt = Key.second;
  E.Open = hook(Site.S, Keyword, true);
  if (!IsReturn) {
    // The operand's last token, as written in the same definition: a macro
    // parameter maps back to where it appears in the replacement list.
    SourceLocation End = locationIn(SM.getFileID(Keyword), Site.S->getEndLoc());
    SourceLocation EndSpelled =
        End.isValid() ? SM.getSpellingLoc(End) : SourceLocation();
    if (EndSpelled.isInvalid() || SM.getFileID(EndSpelled) != DefinedIn ||
        offsetOf(EndSpelled) < Key.second)
      return Block("suspension in a macro whose operand cannot be mapped to "
                   "its definition");
    E.CloseAt = endOffsetOf(EndSpelled);
    E.Close = SuspensionClose.str();
  }
  E.Identity = identity(E);
  if (!Macro.Made)
    Macro.Made = std::move(E);
  else if (Macro.Made->Identity != E.Identity)
    // One expansion's operand ends at a parameter, another's further on.
    Block(DifferentEndsReason);
}

void Collector::finish() {
  for (auto &[Key, Macro] : MacroSites) {
    FileEdits &Edits = editsFor(Macro.File);
    auto Made = Edits.Edits.find(Key.second);
    bool Differs = Macro.Made && Made != Edits.Edits.end() &&
                   Made->second.Identity != Macro.Made->Identity;
    if (Macro.Blocked || Differs || Edits.Refused.count(Key.second)) {
      // Another translation unit may have made it; this one cannot have it.
      if (Made != Edits.Edits.end()) {
        Edits.SitesAt.erase(Key.second);
        Edits.Edits.erase(Made);
      }
      Edits.Refused.insert(Key.second);
      // A macro blocked for its own expansion was counted there.
      if (Macro.Wanted && Macro.Why.empty())
        Edits
            .SkippedAt[Differs ? DifferentEndsReason.str()
                               : MacroBlockedReason.str()]
            .insert(Key.second);
      continue;
    }
    if (!Macro.Made)
      continue;
    bool Suspends = !Macro.Made->Close.empty();
    Edit &E = Edits.Edits.try_emplace(Key.second, *Macro.Made).first->second;
    E.UsedBy.insert(Macro.Owners.begin(), Macro.Owners.end());
    if (Suspends)
      Edits.SitesAt.insert(Key.second);
  }
  // A file without coroutines is not the source engine's to change.
  for (auto &[Key, Locks] : LockEditsOf) {
    FileEdits &Edits = Out[Key];
    if (Edits.CoroutinesAt.empty())
      continue;
    for (Edit &E : Locks) {
      unsigned At = E.OpenAt;
      if (Edits.Refused.count(At))
        continue;
      auto [Made, New] = Edits.Edits.try_emplace(At, std::move(E));
      if (New || Made->second.Identity == E.Identity)
        Edits.LocksAt.insert(At);
    }
    Touched.insert(Key);
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
  if (Skipped)
    checkViews();
  for (const std::string &Key : Touched) {
    FileEdits &Edits = Out[Key];
    Edits.Insertions = flatten(Edits);
  }
}

void Collector::checkViews() {
  auto Active = [](const std::vector<std::pair<unsigned, unsigned>> &Skips,
                   unsigned Offset) {
    return llvm::none_of(Skips, [&](const std::pair<unsigned, unsigned> &R) {
      return R.first < Offset && Offset < R.second;
    });
  };
  auto Conflicts = [&](const FileEdits &File, const Edit &E, unsigned V) {
    return !E.Owner.empty() && !E.SeenBy.count(V) &&
           (Active(File.Views[V], E.OpenAt) ||
            (!E.Close.empty() && Active(File.Views[V], E.CloseAt)));
  };
  // Each pair of an edit and a view is checked once, when the later of the
  // two comes: this translation unit's views against every edit, and its
  // new edits against every view.
  std::set<std::string> Owners;
  for (const auto &[Key, V] : View)
    for (const auto &[At, E] : Out[Key].Edits)
      if (Conflicts(Out[Key], E, V))
        Owners.insert(E.Owner);
  for (const auto &[Key, At] : Made) {
    const FileEdits &File = Out[Key];
    auto E = File.Edits.find(At);
    if (E != File.Edits.end())
      for (unsigned V = 0; V < File.Views.size(); ++V)
        if (Conflicts(File, E->second, V))
          Owners.insert(E->second.Owner);
  }
  for (const std::string &Owner : Owners) {
    removeOwned(Owner);
    size_t Colon = Owner.rfind(':');
    unsigned Body = 0;
    if (Colon == std::string::npos ||
        StringRef(Owner).drop_front(Colon + 1).getAsInteger(10, Body))
      continue;
    FileEdits &File = Out[Owner.substr(0, Colon)];
    File.Refused.insert(Body);
    File.SkippedAt[SeenDifferentlyReason.str()].insert(Body);
  }
}

class CoroutineVisitor : public RecursiveASTVisitor<CoroutineVisitor> {
public:
  explicit CoroutineVisitor(Collector &C) : C(C) {}
  bool shouldVisitTemplateInstantiations() const { return false; }
  bool VisitFunctionDecl(FunctionDecl *FD) {
    const auto *Method = dyn_cast<CXXMethodDecl>(FD);
    if ((Method && Method->getParent()->isLambda()) ||
        !FD->doesThisDeclarationHaveABody())
      return true;
    if (isCoroutine(*FD))
      C.coroutine(*FD);
    C.locks(*FD);
    return true;
  }
  bool VisitLambdaExpr(LambdaExpr *LE) {
    CXXMethodDecl *Call = LE->getCallOperator();
    if (isCoroutine(*Call))
      C.coroutine(*Call);
    C.locks(*Call);
    return true;
  }

private:
  Collector &C;
};

/// The #if branches the preprocessor skips, as it skips them.
class SkippedRanges : public PPCallbacks {
public:
  explicit SkippedRanges(std::shared_ptr<std::vector<SourceRange>> Ranges)
      : Ranges(std::move(Ranges)) {}
  void SourceRangeSkipped(SourceRange Range, SourceLocation) override {
    Ranges->push_back(Range);
  }

private:
  std::shared_ptr<std::vector<SourceRange>> Ranges;
};

class InstrumentConsumer : public SemaConsumer {
public:
  InstrumentConsumer(const Options &Opts, EditSet &Out, bool &Succeeded,
                     Preprocessor &PP)
      : Opts(Opts), Out(Out), Succeeded(Succeeded), PP(&PP),
        Skipped(std::make_shared<std::vector<SourceRange>>()) {
    PP.addPPCallbacks(std::make_unique<SkippedRanges>(Skipped));
  }

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
    collectEdits(Ctx, Opts, Out, PP, *Skipped);
    Succeeded = true;
  }

private:
  const Options &Opts;
  EditSet &Out;
  bool &Succeeded;
  std::optional<ProjectFiles> Project;
  const SourceManager *SM = nullptr;
  Preprocessor *PP;
  // Shared with the callback, which the preprocessor owns.
  std::shared_ptr<std::vector<SourceRange>> Skipped;
  Sema *TheSema = nullptr;
};

} // namespace

void collectEdits(ASTContext &Ctx, const Options &Opts, EditSet &Out,
                  Preprocessor *PP) {
  Collector C(Ctx, Opts, Out, PP, nullptr);
  CoroutineVisitor(C).TraverseDecl(Ctx.getTranslationUnitDecl());
  C.finish();
}

void collectEdits(ASTContext &Ctx, const Options &Opts, EditSet &Out,
                  Preprocessor *PP, const std::vector<SourceRange> &Skipped) {
  Collector C(Ctx, Opts, Out, PP, &Skipped);
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
InstrumentAction::CreateASTConsumer(CompilerInstance &CI, StringRef) {
  return std::make_unique<InstrumentConsumer>(Opts, Out, Succeeded,
                                              CI.getPreprocessor());
}

std::vector<Insertion> flatten(const FileEdits &Edits) {
  struct Item {
    unsigned Offset;
    bool Closer;
    unsigned OpenAt, CloseAt, Key;
    const std::string *Text;
  };
  static const std::string Prefix = PrefixText.str();
  std::vector<Item> Items;
  if (!Edits.Edits.empty() && !Edits.HasPrefix)
    Items.push_back(
        {Edits.PrefixAt, false, Edits.PrefixAt, UINT_MAX, 0, &Prefix});
  for (const auto &[Key, E] : Edits.Edits) {
    unsigned CloseAt = E.Close.empty() ? E.OpenAt : E.CloseAt;
    Items.push_back({E.OpenAt, false, E.OpenAt, CloseAt, Key, &E.Open});
    if (!E.Close.empty())
      Items.push_back({E.CloseAt, true, E.OpenAt, CloseAt, Key, &E.Close});
  }
  // At one offset: closers, the innermost (latest opened) first; then
  // openers, the outermost (latest closed) first.
  llvm::sort(Items, [](const Item &A, const Item &B) {
    if (A.Offset != B.Offset)
      return A.Offset < B.Offset;
    if (A.Closer != B.Closer)
      return A.Closer;
    if (A.Closer)
      return std::tie(B.OpenAt, B.Key) < std::tie(A.OpenAt, A.Key);
    return std::tie(B.CloseAt, A.Key) < std::tie(A.CloseAt, B.Key);
  });
  std::vector<Insertion> Flat;
  Flat.reserve(Items.size());
  for (const Item &I : Items) {
    std::int64_t Order = !Flat.empty() && Flat.back().Offset == I.Offset
                             ? Flat.back().Order + 1
                             : 0;
    Flat.push_back({I.Offset, Order, marked(*I.Text)});
  }
  return Flat;
}

std::string summarize(const FileEdits &Edits) {
  auto Plural = [](unsigned N, StringRef Word) {
    return std::to_string(N) + " " + Word.str() + (N == 1 ? "" : "s");
  };
  std::string Text = Edits.Name + ": " +
                     Plural(Edits.CoroutinesAt.size(), "coroutine") + ", " +
                     Plural(Edits.SitesAt.size(), "site");
  if (!Edits.LocksAt.empty())
    Text += ", " + Plural(Edits.LocksAt.size(), "lock operation");
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
  std::vector<Insertion> Flat = flatten(Edits);
  size_t Added = 0;
  for (const Insertion &I : Flat) {
    if (I.Offset > Original.size())
      return Original.str(); // not the text the edits were made for
    Added += I.Text.size();
  }
  std::string Text;
  Text.reserve(Original.size() + Added);
  unsigned Done = 0;
  for (const Insertion &I : Flat) {
    Text.append(Original.data() + Done, I.Offset - Done);
    Text += I.Text;
    Done = I.Offset;
  }
  Text.append(Original.data() + Done, Original.size() - Done);
  return Text;
}

/// The language a raw lexer needs to tokenize C++20 as the compiler does:
/// digraphs, raw strings, digit separators, `//` comments.
const LangOptions &rawLangOptions() {
  static const LangOptions LO = [] {
    LangOptions Opts;
    std::vector<std::string> Includes;
    LangOptions::setLangDefaults(Opts, Language::CXX, llvm::Triple(), Includes,
                                 LangStandard::lang_cxx20);
    return Opts;
  }();
  return LO;
}

bool mentionsCoroutineKeyword(StringRef Text) {
  Lexer Raw(SourceLocation(), rawLangOptions(), Text.begin(), Text.begin(),
            Text.end());
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
