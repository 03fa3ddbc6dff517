//===--- BorrowedObjects.cpp - what a coroutine call borrows --------------===//

#include "BorrowedObjects.h"
#include "AwaitKnowledge.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace coroscope {

namespace {

/// What a parameter or an object expression is bound to.
struct Bound {
  ObjectKind Kind;
  const VarDecl *Variable = nullptr;
  QualType TemporaryType;
};

enum class Binding { Reference, View, Pointer };

std::optional<Bound> boundObject(const Expr *E, Binding How);

/// The object a reference bound to \p E refers to.
std::optional<Bound> referencedObject(const Expr *E) {
  E = skipTransparent(E);
  if (!E)
    return std::nullopt;
  if (const auto *Temporary = dyn_cast<MaterializeTemporaryExpr>(E)) {
    if (Temporary->getStorageDuration() != SD_FullExpression)
      return std::nullopt; // lifetime-extended: a local in all but name
    return Bound{ObjectKind::Temporary, nullptr,
                 Temporary->getType().getNonReferenceType()};
  }
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    if (!Var || Var->getType()->isReferenceType() || !Var->hasLocalStorage())
      return std::nullopt;
    return Bound{isa<ParmVarDecl>(Var) ? ObjectKind::CallerParameter
                                       : ObjectKind::Local,
                 Var, QualType()};
  }
  // A member or an element of an object lives as long as the object,
  // unless the member is itself a reference to something else.
  if (const auto *Member = dyn_cast<MemberExpr>(E))
    return Member->isArrow() ||
                   Member->getMemberDecl()->getType()->isReferenceType()
               ? std::nullopt
               : referencedObject(Member->getBase());
  if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(E))
    if (Subscript->getBase()->getType()->isArrayType() ||
        isa<ImplicitCastExpr>(Subscript->getBase()))
      if (const auto *Decay = dyn_cast<ImplicitCastExpr>(Subscript->getBase());
          Decay && Decay->getCastKind() == CK_ArrayToPointerDecay)
        return referencedObject(Decay->getSubExpr());
  if (const auto *Call = dyn_cast<CallExpr>(E);
      Call && isStdMoveOrForward(*Call))
    return referencedObject(Call->getArg(0));
  return std::nullopt;
}

/// The object a pointer \p E points to.
std::optional<Bound> pointedObject(const Expr *E) {
  E = skipTransparent(E);
  if (const auto *Unary = dyn_cast_or_null<UnaryOperator>(E))
    return Unary->getOpcode() == UO_AddrOf
               ? referencedObject(Unary->getSubExpr())
               : std::nullopt;
  if (const auto *Cast = dyn_cast_or_null<ImplicitCastExpr>(E))
    return Cast->getCastKind() == CK_ArrayToPointerDecay
               ? referencedObject(Cast->getSubExpr())
               : std::nullopt;
  // The buffer of a string or a container.
  if (const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(E))
    if (const CXXMethodDecl *Method = Call->getMethodDecl();
        Method && Method->getIdentifier() &&
        (Method->getName() == "c_str" || Method->getName() == "data") &&
        !Call->getImplicitObjectArgument()->getType()->isPointerType())
      return referencedObject(Call->getImplicitObjectArgument());
  return std::nullopt;
}

/// The object a view constructed from \p E refers to.
std::optional<Bound> viewedObject(const Expr *E) {
  E = skipTransparent(E);
  if (const auto *Cast = dyn_cast_or_null<CXXFunctionalCastExpr>(E))
    return viewedObject(Cast->getSubExpr());
  // std::string's conversion to std::string_view.
  if (const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(E))
    if (isa_and_nonnull<CXXConversionDecl>(Call->getMethodDecl()))
      return referencedObject(Call->getImplicitObjectArgument());
  const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(E);
  if (!Construct || Construct->getNumArgs() == 0)
    return std::nullopt;
  const Expr *Source = Construct->getArg(0);
  if (Construct->getConstructor()->isCopyOrMoveConstructor())
    return viewedObject(Source); // a view of a view made here
  return boundObject(Source, Source->getType()->isPointerType()
                                 ? Binding::Pointer
                                 : Binding::Reference);
}

std::optional<Bound> boundObject(const Expr *E, Binding How) {
  switch (How) {
  case Binding::Reference:
    return referencedObject(E);
  case Binding::Pointer:
    return pointedObject(E);
  case Binding::View:
    return viewedObject(E);
  }
  return std::nullopt;
}

/// Where a coroutine body reads declarations and `this`, and where it
/// suspends, to tell a read before the first suspension from one after.
/// Only a suspension that returns control to the caller counts: a co_yield,
/// or a co_await of an executor turn, a timer or an event. Awaiting a child
/// coroutine may complete within the call (symmetric transfer back), as
/// does awaiting a result that is already there.
class UseScanner : public EvaluatedCodeVisitor<UseScanner> {
public:
  UseScanner(const ASTContext &Ctx, TaskClassifier &Tasks,
             const LibraryBoundary &Library)
      : EvaluatedCodeVisitor(Ctx), Tasks(Tasks), Library(Library) {}

  bool VisitDeclRefExpr(DeclRefExpr *E) {
    record(E->getDecl(), E->getLocation());
    return true;
  }
  bool VisitCXXThisExpr(CXXThisExpr *E) {
    record(nullptr, E->getBeginLoc());
    return true;
  }
  bool VisitCoawaitExpr(CoawaitExpr *E) {
    if (!E->isImplicit() &&
        classifyAwaitOperand(E->getOperand(), Tasks, Library) !=
            AwaitedOperation::Child)
      suspension(E->getBeginLoc());
    return true;
  }
  bool VisitCoyieldExpr(CoyieldExpr *E) {
    suspension(E->getBeginLoc());
    return true;
  }
  bool TraverseForStmt(ForStmt *S) {
    return loop(S, [&] { return EvaluatedCodeVisitor::TraverseForStmt(S); });
  }
  bool TraverseWhileStmt(WhileStmt *S) {
    return loop(S, [&] { return EvaluatedCodeVisitor::TraverseWhileStmt(S); });
  }
  bool TraverseDoStmt(DoStmt *S) {
    return loop(S, [&] { return EvaluatedCodeVisitor::TraverseDoStmt(S); });
  }
  bool TraverseCXXForRangeStmt(CXXForRangeStmt *S) {
    return loop(
        S, [&] { return EvaluatedCodeVisitor::TraverseCXXForRangeStmt(S); });
  }

  /// Where the body first reads \p D (null: `this`); with \p AfterSuspension,
  /// the first read that may follow a suspension. Invalid when none.
  SourceLocation firstUse(const ValueDecl *D, bool AfterSuspension) const {
    auto It = Uses.find(D);
    if (It == Uses.end())
      return {};
    const SourceManager &SM = Ctx.getSourceManager();
    for (const Use &U : It->second) {
      if (!AfterSuspension)
        return U.Loc;
      if (llvm::any_of(U.Loops, [&](const Stmt *L) {
            return SuspendingLoops.contains(L);
          }))
        return U.Loc;
      if (FirstSuspension.isValid() &&
          SM.isBeforeInTranslationUnit(SM.getExpansionLoc(FirstSuspension),
                                       SM.getExpansionLoc(U.Loc)))
        return U.Loc;
    }
    return {};
  }

private:
  struct Use {
    SourceLocation Loc;
    std::vector<const Stmt *> Loops;
  };

  template <typename Fn> bool loop(const Stmt *S, Fn Traverse) {
    Loops.push_back(S);
    bool Result = Traverse();
    Loops.pop_back();
    return Result;
  }
  void record(const ValueDecl *D, SourceLocation Loc) {
    Uses[D].push_back({Loc, Loops});
  }
  void suspension(SourceLocation Loc) {
    SuspendingLoops.insert(Loops.begin(), Loops.end());
    const SourceManager &SM = Ctx.getSourceManager();
    if (FirstSuspension.isInvalid() ||
        SM.isBeforeInTranslationUnit(SM.getExpansionLoc(Loc),
                                     SM.getExpansionLoc(FirstSuspension)))
      FirstSuspension = Loc;
  }

  TaskClassifier &Tasks;
  const LibraryBoundary &Library;
  llvm::DenseMap<const ValueDecl *, std::vector<Use>> Uses;
  std::vector<const Stmt *> Loops;
  llvm::DenseSet<const Stmt *> SuspendingLoops;
  SourceLocation FirstSuspension;
};

/// The type as written when that names an alias ("std::string"), else
/// with its namespaces ("std::basic_string<char>").
std::string typeForUser(QualType T, const ASTContext &Ctx) {
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  if (!T->getAs<TypedefType>())
    T = T.getCanonicalType();
  return T.getUnqualifiedType().getAsString(Policy);
}

bool isWrapper(const FunctionDecl &Callee, const NameList &LambdaWrappers) {
  if (LambdaWrappers.empty())
    return false;
  llvm::SmallVector<std::string, 2> Names{plainQualifiedName(Callee)};
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&Callee))
    Names.push_back(plainQualifiedName(*Method->getParent()));
  return LambdaWrappers.findMatch(Names).has_value();
}

} // namespace

std::optional<TaskCreation> findBorrows(const CallExpr &Call,
                                        const TaskInfo &Task,
                                        const ASTContext &Ctx,
                                        const BorrowOptions &Options) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || isWrapper(*Callee, Options.LambdaWrappers))
    return std::nullopt;
  const FunctionDecl *Definition = Callee->getDefinition();
  if (!Definition || !isCoroutine(*Definition))
    return std::nullopt;
  // Instantiated arguments can wrap a lambda into a library's frame too.
  for (const Expr *Arg : Call.arguments())
    if (const auto *Inner = dyn_cast<CallExpr>(skipTransparent(Arg)))
      if (const FunctionDecl *F = Inner->getDirectCallee();
          F && isWrapper(*F, Options.LambdaWrappers))
        return std::nullopt;

  TaskCreation Creation{&Call, Definition, Task, {}};
  UseScanner Scanner(Ctx, Options.Tasks, Options.Library);
  if (const Stmt *Body = userBody(*Definition))
    Scanner.TraverseStmt(const_cast<Stmt *>(Body));
  const bool Eager = Task.Start == TaskStart::Eager;

  // Parameters: argument I binds parameter I, after the object of a member
  // operator call.
  const auto *Method = dyn_cast<CXXMethodDecl>(Definition);
  const bool ObjectIsFirstArgument =
      isa<CXXOperatorCallExpr>(Call) && Method && Method->isInstance();
  const unsigned FirstArg = ObjectIsFirstArgument ? 1 : 0;
  for (unsigned I = 0;
       I < Definition->getNumParams() && I + FirstArg < Call.getNumArgs();
       ++I) {
    const ParmVarDecl *Param = Definition->getParamDecl(I);
    if (Param->isParameterPack())
      break;
    QualType Type = Param->getType();
    std::string Subject;
    Binding How;
    if (Type->isReferenceType() &&
        !Type.getNonReferenceType()->isFunctionType()) {
      How = Binding::Reference;
      Subject = "reference parameter";
    } else if (Type->isPointerType() && !Type->isFunctionPointerType()) {
      How = Binding::Pointer;
      Subject = "pointer parameter";
    } else if (const CXXRecordDecl *Class = Type->getAsCXXRecordDecl();
               Class &&
               Options.ViewTypes.findMatch({plainQualifiedName(*Class)})) {
      How = Binding::View;
      Subject = "'" + typeForUser(Type, Ctx) + "' parameter";
    } else {
      continue;
    }
    SourceLocation UsedAt = Scanner.firstUse(Param, Eager);
    if (UsedAt.isInvalid())
      continue;
    const Expr *Arg = Call.getArg(I + FirstArg);
    std::optional<Bound> Object = boundObject(Arg, How);
    if (!Object)
      continue;
    Borrow B{BorrowKind::Parameter,
             Subject + " '" + Param->getName().str() + "'",
             Object->Kind,
             Object->Variable,
             Object->Kind == ObjectKind::Temporary
                 ? typeForUser(Object->TemporaryType, Ctx)
                 : "",
             Arg->getBeginLoc().isValid() ? Arg->getBeginLoc()
                                          : Call.getBeginLoc(),
             Param,
             UsedAt};
    Creation.Borrows.push_back(std::move(B));
  }

  // The object: `this` of a member coroutine, or the lambda whose captures
  // a coroutine lambda reads.
  if (Method && Method->isInstance()) {
    const Expr *Object = nullptr;
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
      const auto *Callee =
          dyn_cast<MemberExpr>(Member->getCallee()->IgnoreParens());
      if (Callee && !Callee->isArrow())
        Object = Member->getImplicitObjectArgument();
    } else if (ObjectIsFirstArgument) {
      Object = Call.getArg(0);
    }
    std::optional<Bound> Bound =
        Object ? referencedObject(Object) : std::nullopt;
    const CXXRecordDecl *Class = Method->getParent();
    std::string Subject;
    SourceLocation UsedAt;
    if (Bound && Class->isLambda()) {
      llvm::DenseMap<const ValueDecl *, FieldDecl *> Captures;
      FieldDecl *ThisCapture = nullptr;
      Class->getCaptureFields(Captures, ThisCapture);
      // The first capture the body reads, in source order.
      const SourceManager &SM = Ctx.getSourceManager();
      auto Consider = [&](const ValueDecl *D, StringRef Name) {
        SourceLocation At = Scanner.firstUse(D, Eager);
        if (At.isValid() &&
            (UsedAt.isInvalid() ||
             SM.isBeforeInTranslationUnit(SM.getExpansionLoc(At),
                                          SM.getExpansionLoc(UsedAt)))) {
          UsedAt = At;
          Subject = "capture '" + Name.str() + "'";
        }
      };
      for (const auto &[Captured, Field] : Captures)
        Consider(Captured, Captured->getName());
      if (ThisCapture)
        Consider(nullptr, "this");
    } else if (Bound) {
      UsedAt = Scanner.firstUse(nullptr, Eager);
      Subject = "'this'";
    }
    if (Bound && UsedAt.isValid())
      Creation.Borrows.push_back(
          {Class->isLambda() ? BorrowKind::Capture : BorrowKind::This, Subject,
           Bound->Kind, Bound->Variable,
           Bound->Kind == ObjectKind::Temporary
               ? typeForUser(Bound->TemporaryType, Ctx)
               : "",
           callBegin(Call), nullptr, UsedAt});
  }
  return Creation;
}

} // namespace coroscope
