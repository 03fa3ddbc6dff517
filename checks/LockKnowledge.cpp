//===--- LockKnowledge.cpp - What coroscope knows about locks -------------===//

#include "LockKnowledge.h"
#include "CoroutineKnowledge.h"
#include "clang/AST/ASTContext.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace coroscope {

namespace {
enum class LockTag { None, Defer, TryTo, Adopt };

LockTag lockTag(QualType Type) {
  const CXXRecordDecl *RD = Type.getNonReferenceType()->getAsCXXRecordDecl();
  if (!RD)
    return LockTag::None;
  return llvm::StringSwitch<LockTag>(plainQualifiedName(*RD))
      .Case("std::defer_lock_t", LockTag::Defer)
      .Case("std::try_to_lock_t", LockTag::TryTo)
      .Case("std::adopt_lock_t", LockTag::Adopt)
      .Default(LockTag::None);
}
} // namespace

const Expr *stripLockExpr(const Expr *E) {
  for (const Expr *Previous = nullptr; E && E != Previous;) {
    Previous = E;
    E = E->IgnoreImplicit()->IgnoreParens();
    if (const auto *Cast = dyn_cast<CXXFunctionalCastExpr>(E))
      E = Cast->getSubExpr();
  }
  return E;
}

std::string lockClassName(
    const Expr *Mutex,
    llvm::function_ref<std::string(const FunctionDecl &)> FunctionName) {
  const Expr *E = stripLockExpr(Mutex);
  while (const auto *Unary = dyn_cast_or_null<UnaryOperator>(E)) {
    if (Unary->getOpcode() != UO_AddrOf && Unary->getOpcode() != UO_Deref)
      break;
    E = stripLockExpr(Unary->getSubExpr());
  }
  if (const auto *DeclRef = dyn_cast_or_null<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(DeclRef->getDecl());
    if (!Var || isa<ParmVarDecl>(Var) || !Var->hasGlobalStorage())
      return "";
    if (const auto *Function =
            dyn_cast_or_null<FunctionDecl>(Var->getParentFunctionOrMethod()))
      return FunctionName(*Function) + "::" + Var->getName().str();
    return plainQualifiedName(*Var);
  }
  if (const auto *Member = dyn_cast_or_null<MemberExpr>(E)) {
    const ValueDecl *Decl = Member->getMemberDecl();
    if (isa<VarDecl>(Decl) || isa<FieldDecl>(Decl))
      return plainQualifiedName(*Decl);
  }
  return "";
}

const VarDecl *referencedVar(const Expr *E) {
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(stripLockExpr(E)))
    return dyn_cast<VarDecl>(Ref->getDecl());
  return nullptr;
}

bool isStdMutex(const CXXRecordDecl &RD) {
  const std::string Name = plainQualifiedName(RD);
  return Name == "std::mutex" || Name == "std::timed_mutex" ||
         Name == "std::recursive_mutex" ||
         Name == "std::recursive_timed_mutex" || Name == "std::shared_mutex" ||
         Name == "std::shared_timed_mutex";
}

bool isStdLockGuard(const CXXRecordDecl &RD) {
  const std::string Name = plainQualifiedName(RD);
  return Name == "std::lock_guard" || Name == "std::scoped_lock" ||
         Name == "std::unique_lock" || Name == "std::shared_lock";
}

std::optional<GuardConstruction>
classifyGuardConstruction(const CXXConstructExpr &Construct,
                          bool AnyGuardClass) {
  const CXXConstructorDecl *Ctor = Construct.getConstructor();
  if (!Ctor || Ctor->isCopyOrMoveConstructor())
    return std::nullopt;
  const CXXRecordDecl *Class = Ctor->getParent();
  if (!AnyGuardClass && !isStdLockGuard(*Class))
    return std::nullopt;
  GuardConstruction Result;
  LockTag Tag = LockTag::None;
  for (const Expr *Arg : Construct.arguments()) {
    if (isa<CXXDefaultArgExpr>(Arg))
      continue;
    if (LockTag T = lockTag(Arg->getType()); T != LockTag::None) {
      Tag = T;
      continue;
    }
    Result.Mutexes.push_back(Arg);
  }
  if (Result.Mutexes.empty())
    return std::nullopt;
  const std::string Name = plainQualifiedName(*Class);
  const bool Timed =
      (Name == "std::unique_lock" || Name == "std::shared_lock") &&
      Result.Mutexes.size() > 1;
  if (Timed)
    Result.Mutexes.resize(1);
  Result.Blocks = Tag == LockTag::None && !Timed;
  Result.Owns = Result.Blocks || Tag == LockTag::Adopt;
  return Result;
}

std::optional<ManualLockCall> classifyManualLockCall(const CallExpr &Call,
                                                     bool WithTries) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || !Callee->getIdentifier())
    return std::nullopt;
  const StringRef Name = Callee->getName();
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
    const CXXRecordDecl *Class = Member->getRecordDecl();
    if (!Class || !isStdMutex(*Class))
      return std::nullopt;
    const Expr *Object = Member->getImplicitObjectArgument();
    if (Name == "lock" || Name == "lock_shared")
      return ManualLockCall{Object, true};
    if (Name == "unlock" || Name == "unlock_shared")
      return ManualLockCall{Object, false};
    if (WithTries && (Name == "try_lock" || Name == "try_lock_shared"))
      return ManualLockCall{Object, true, true};
    return std::nullopt;
  }
  if (Call.getNumArgs() != 1 ||
      !Callee->getDeclContext()->getRedeclContext()->isTranslationUnit() ||
      !Callee->getASTContext().getSourceManager().isInSystemHeader(
          Callee->getCanonicalDecl()->getLocation()))
    return std::nullopt;
  const bool Tries = WithTries && Name == "pthread_mutex_trylock";
  const bool Acquires = Tries || Name == "pthread_mutex_lock";
  if (!Acquires && Name != "pthread_mutex_unlock")
    return std::nullopt;
  const Expr *Mutex = Call.getArg(0)->IgnoreParenImpCasts();
  if (const auto *AddressOf = dyn_cast<UnaryOperator>(Mutex))
    if (AddressOf->getOpcode() == UO_AddrOf)
      Mutex = AddressOf->getSubExpr();
  return ManualLockCall{Mutex, Acquires, Tries};
}

const char *const DefaultAsyncLockTypes =
    "cppcoro::async_mutex;cppcoro::async_mutex_lock;"
    "cppcoro::async_mutex_scoped_lock_operation;folly::coro::Mutex;"
    "folly::coro::SharedMutex;folly::coro::SharedMutexFair;coro::mutex;"
    "coro::scoped_lock;coro::shared_mutex;coro::shared_scoped_lock";

bool isDefaultAsyncLockType(const CXXRecordDecl &RD) {
  llvm::SmallVector<StringRef, 12> Names;
  StringRef(DefaultAsyncLockTypes).split(Names, ';');
  return llvm::is_contained(Names, plainQualifiedName(RD));
}

const Expr *awaitedScopedLockMutex(const CoawaitExpr &Await) {
  if (Await.getType()->isVoidType())
    return nullptr;
  const auto *Call =
      dyn_cast_or_null<CXXMemberCallExpr>(stripLockExpr(Await.getOperand()));
  if (!Call)
    return nullptr;
  const Expr *Mutex = Call->getImplicitObjectArgument();
  const CXXRecordDecl *Class = Mutex ? objectClass(*Mutex) : nullptr;
  if (!Class || !isDefaultAsyncLockType(*Class))
    return nullptr;
  return Mutex;
}

} // namespace coroscope
