//===--- LockEdits.cpp - the source engine's lock hooks -------------------===//

#include "LockEdits.h"
#include "CoroutineKnowledge.h"
#include "Instrumenter.h"
#include "LockSites.h"

#include "coroscope/ir_abi.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;

namespace coroscope::rewriter {
namespace {

bool suspends(const Stmt *S) {
  if (!S)
    return false;
  if (isa<CoawaitExpr, DependentCoawaitExpr, CoyieldExpr>(S))
    return true;
  for (const Stmt *Child : S->children())
    if (suspends(Child))
      return true;
  return false;
}

const char *kindName(std::uint8_t Kind) {
  switch (Kind) {
  case COROSCOPE_IR_LOCK_KIND_SHARED:
    return "shared";
  case COROSCOPE_IR_LOCK_KIND_ASYNC:
    return "async";
  default:
    return "mutex";
  }
}

class EditMaker {
public:
  EditMaker(const FunctionDecl &FD, ASTContext &Ctx, FileID File,
            StringRef SiteFile)
      : FD(FD), Ctx(Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()),
        File(File), SiteFile(SiteFile) {}

  std::optional<LockEdit> make(const LockOperationSite &Site);

private:
  /// The offset of \p Loc, if it is written in the file itself.
  std::optional<unsigned> offsetIn(SourceLocation Loc) const {
    if (Loc.isInvalid() || Loc.isMacroID() || SM.getFileID(Loc) != File)
      return std::nullopt;
    return SM.getFileOffset(Loc);
  }
  std::optional<unsigned> endOffsetIn(SourceLocation TokenLoc) const {
    std::optional<unsigned> Begin = offsetIn(TokenLoc);
    if (!Begin)
      return std::nullopt;
    return *Begin + Lexer::MeasureTokenLength(TokenLoc, SM, LO);
  }
  /// The mutex's address, as an expression of its own.
  std::optional<std::string> address(const Expr &Mutex) const;
  /// The site's constant fields, without the kind: "class", "function",
  /// "file", line, column.
  std::string fields(const LockOperationSite &Site, SourceLocation At) const;
  /// True when instrumentation ends right before \p Offset: the file was
  /// instrumented already.
  bool marked(unsigned Offset) const {
    return SM.getBufferData(File).take_front(Offset).ends_with(CloseMarker);
  }
  /// True when the full expression of \p E has a suspension.
  bool sharesFullExpressionWithSuspension(const Expr &E);

  const FunctionDecl &FD;
  ASTContext &Ctx;
  const SourceManager &SM;
  const LangOptions &LO;
  FileID File;
  StringRef SiteFile;
  std::optional<bool> BodySuspends; // computed at the first call
};

std::optional<std::string> EditMaker::address(const Expr &Mutex) const {
  if (Mutex.HasSideEffects(Ctx))
    return std::nullopt;
  SourceRange Range = Mutex.getSourceRange();
  if (!offsetIn(Range.getBegin()) || !offsetIn(Range.getEnd()))
    return std::nullopt;
  StringRef Text =
      Lexer::getSourceText(CharSourceRange::getTokenRange(Range), SM, LO);
  if (Text.empty() || Text.contains('\n'))
    return std::nullopt;
  // pthread's mutex given as a pointer is its address already.
  if (Mutex.getType()->isPointerType())
    return "(" + Text.str() + ")";
  return "(__builtin_addressof(" + Text.str() + "))";
}

std::string EditMaker::fields(const LockOperationSite &Site,
                              SourceLocation At) const {
  PresumedLoc Where = SM.getPresumedLoc(At);
  return quoted(Site.LockClass) + ", " + quoted(reportFunctionName(FD)) + ", " +
         quoted(SiteFile) + ", " + std::to_string(Where.getLine()) + ", " +
         std::to_string(Where.getColumn());
}

bool EditMaker::sharesFullExpressionWithSuspension(const Expr &E) {
  // Up through every parent that is an expression (a coroutine's awaits
  // share their operands), to the tops of the full expression.
  llvm::SmallVector<const Stmt *, 8> Work{&E};
  llvm::SmallPtrSet<const Stmt *, 16> Seen;
  while (!Work.empty() && Seen.size() < 1024) {
    const Stmt *S = Work.pop_back_val();
    if (!Seen.insert(S).second)
      continue;
    if (isa<CoawaitExpr, DependentCoawaitExpr, CoyieldExpr>(S))
      return true;
    bool Top = true;
    for (const DynTypedNode &Parent : Ctx.getParents(*S))
      if (const auto *Outer = Parent.get<Expr>()) {
        Work.push_back(Outer);
        Top = false;
      }
    if (Top && suspends(S))
      return true;
  }
  return false;
}

std::optional<LockEdit> EditMaker::make(const LockOperationSite &Site) {
  std::optional<std::string> Address = address(*Site.Mutex);
  if (!Address)
    return std::nullopt;
  if (Site.Guard) {
    // The wait and the hold are declarations beside the guard's, in its
    // block: it must be the only declaration of its statement.
    DynTypedNodeList Parents = Ctx.getParents(*Site.Guard);
    const auto *Statement =
        Parents.size() == 1 ? Parents[0].get<DeclStmt>() : nullptr;
    if (!Statement || !Statement->isSingleDecl() ||
        !Site.Guard->isLocalVarDecl() || Site.Guard->isStaticLocal())
      return std::nullopt;
    DynTypedNodeList Blocks = Ctx.getParents(*Statement);
    if (Blocks.size() != 1 || !Blocks[0].get<CompoundStmt>())
      return std::nullopt;
    std::optional<unsigned> Begin = offsetIn(Statement->getBeginLoc());
    std::optional<unsigned> End = endOffsetIn(Statement->getEndLoc());
    if (!Begin || !End || marked(*Begin))
      return std::nullopt;
    std::string Id = std::to_string(*Begin);
    return LockEdit{*Begin,
                    "COROSCOPE_I_LOCK_WAIT(" + Id + ", " + *Address + ", " +
                        fields(Site, Site.Guard->getLocation()) + ", " +
                        kindName(Site.Kind) + ")",
                    *End, "COROSCOPE_I_LOCK_HOLD(" + Id + ")"};
  }
  std::optional<unsigned> Begin = offsetIn(Site.Call->getBeginLoc());
  std::optional<unsigned> End = endOffsetIn(Site.Call->getEndLoc());
  if (!Begin || !End || marked(*Begin))
    return std::nullopt;
  // Its site is a lambda's static: a closure in a full expression with a
  // suspension would live in the coroutine frame.
  if (!BodySuspends)
    BodySuspends = suspends(FD.getBody());
  if (*BodySuspends && sharesFullExpressionWithSuspension(*Site.Call))
    return std::nullopt;
  std::string SiteText = "COROSCOPE_I_LOCK_SITE(" +
                         fields(Site, Site.Call->getBeginLoc()) + ", " +
                         kindName(Site.Kind) + ")";
  switch (Site.Operation) {
  case LockOperation::Lock:
    return LockEdit{*Begin,
                    "((void)::coroscope::lock_call{" + *Address + ", " +
                        SiteText + "}, ",
                    *End, ")"};
  case LockOperation::TryLock:
    return LockEdit{
        *Begin, "::coroscope::lock_tried(" + *Address + ", " + SiteText + ", ",
        *End, ")"};
  case LockOperation::Unlock:
    return LockEdit{*Begin,
                    "(::coroscope::lock_released(" + *Address + ", " +
                        SiteText + "), ",
                    *End, ")"};
  case LockOperation::Guard:
    break;
  }
  return std::nullopt;
}

} // namespace

std::vector<LockEdit> lockEdits(const FunctionDecl &FD, ASTContext &Ctx,
                                FileID File, StringRef SiteFile) {
  std::vector<LockEdit> Edits;
  EditMaker Maker(FD, Ctx, File, SiteFile);
  for (const LockOperationSite &Site : findLockOperations(FD))
    if (std::optional<LockEdit> Edit = Maker.make(Site))
      Edits.push_back(std::move(*Edit));
  return Edits;
}

} // namespace coroscope::rewriter
