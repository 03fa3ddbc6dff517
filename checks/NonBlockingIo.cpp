//===--- NonBlockingIo.cpp - POSIX I/O on descriptors that do not block ---===//

#include "NonBlockingIo.h"
#include "CoroutineKnowledge.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace coroscope {
namespace {

/// The argument that holds a descriptor call's flags, or -1.
int flagsArgument(StringRef Name) {
  return llvm::StringSwitch<int>(Name)
      .Cases("recv", "send", "recvfrom", "sendto", 3)
      .Cases("recvmsg", "sendmsg", 2)
      .Default(-1);
}

bool isDescriptorCallName(StringRef Name) {
  return llvm::StringSwitch<bool>(Name)
      .Cases("read", "readv", "pread", "preadv", "write", "writev", true)
      .Cases("pwrite", "pwritev", "recv", "recvfrom", "recvmsg", true)
      .Cases("send", "sendto", "sendmsg", "accept", "accept4", true)
      .Case("connect", true)
      .Default(false);
}

/// A C library function: global and extern "C" (asio::write is not one).
const FunctionDecl *posixCallee(const CallExpr &Call) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || isa<CXXMethodDecl>(Callee) || !Callee->getIdentifier())
    return nullptr;
  return Callee->getDeclContext()->getRedeclContext()->isTranslationUnit() &&
                 Callee->isExternC()
             ? Callee
             : nullptr;
}

/// True when \p S names one of \p Names: an enumerator (glibc's MSG_DONTWAIT
/// and SOCK_NONBLOCK) or a macro expanded in it (O_NONBLOCK, EAGAIN).
class NameFinder : public RecursiveASTVisitor<NameFinder> {
public:
  NameFinder(const ASTContext &Ctx, llvm::ArrayRef<StringRef> Names)
      : SM(Ctx.getSourceManager()), LangOpts(Ctx.getLangOpts()), Names(Names) {}

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (const auto *Constant = dyn_cast<EnumConstantDecl>(Ref->getDecl()))
      if (Constant->getIdentifier() && isName(Constant->getName()))
        Found = true;
    return !Found;
  }
  bool VisitExpr(Expr *E) { return visitMacros(E->getBeginLoc()); }

  bool Found = false;

private:
  bool isName(StringRef Name) const { return llvm::is_contained(Names, Name); }

  bool visitMacros(SourceLocation Loc) {
    for (int Depth = 0; Loc.isMacroID() && Depth < 16 && !Found; ++Depth) {
      if (isName(Lexer::getImmediateMacroName(Loc, SM, LangOpts)))
        Found = true;
      Loc = SM.getImmediateMacroCallerLoc(Loc);
    }
    return !Found;
  }

  const SourceManager &SM;
  const LangOptions &LangOpts;
  llvm::ArrayRef<StringRef> Names;
};

bool names(const Stmt *S, const ASTContext &Ctx,
           llvm::ArrayRef<StringRef> Names) {
  if (!S)
    return false;
  NameFinder Finder(Ctx, Names);
  Finder.TraverseStmt(const_cast<Stmt *>(S));
  return Finder.Found;
}

const StringRef WouldBlock[] = {"EAGAIN", "EWOULDBLOCK", "EINPROGRESS"};
const StringRef NonBlockingFlags[] = {"SOCK_NONBLOCK", "O_NONBLOCK",
                                      "FIONBIO",       "EFD_NONBLOCK",
                                      "TFD_NONBLOCK",  "IN_NONBLOCK"};

/// The array of `fds[1]`, on a built-in array or a std::array; else null.
const Expr *subscriptBase(const Expr *E) {
  if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(E))
    return Subscript->getBase();
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E);
      Op && Op->getOperator() == OO_Subscript)
    return Op->getArg(0);
  return nullptr;
}

/// What an accessor called on `this` returns when its body is one return
/// statement of a member of this object.
const Expr *accessorResult(const CXXMemberCallExpr &Call) {
  const Expr *Object = Call.getImplicitObjectArgument();
  const CXXMethodDecl *Method = Call.getMethodDecl();
  if (!Object || !isa<CXXThisExpr>(Object->IgnoreParenImpCasts()) || !Method)
    return nullptr;
  const FunctionDecl *Definition = Method->getDefinition();
  const auto *Body = Definition
                         ? dyn_cast_or_null<CompoundStmt>(Definition->getBody())
                         : nullptr;
  if (!Body || Body->size() != 1)
    return nullptr;
  const auto *Return = dyn_cast<ReturnStmt>(Body->body_front());
  const Expr *Value = Return ? Return->getRetValue() : nullptr;
  if (!Value)
    return nullptr;
  const Expr *Inner = Value->IgnoreParenImpCasts();
  if (const Expr *Array = subscriptBase(Inner))
    Inner = Array->IgnoreParenImpCasts();
  const auto *Member = dyn_cast<MemberExpr>(Inner);
  return Member && isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts())
             ? Value
             : nullptr;
}

/// The variables and data members a descriptor expression reads, innermost
/// first, through accessors: `fd`, `m_fd`, `m_socket.native_handle()`,
/// `sock_->fd()`, `m_socket.fd` (fd, then m_socket).
llvm::SmallVector<const ValueDecl *, 2> descriptorPath(const Expr *E) {
  llvm::SmallVector<const ValueDecl *, 2> Path;
  for (int Depth = 0; E && Depth < 8; ++Depth) {
    E = E->IgnoreParenImpCasts();
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
      if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl()))
        Path.push_back(Var);
      break;
    }
    if (const auto *Member = dyn_cast<MemberExpr>(E)) {
      if (const auto *Value = dyn_cast<ValueDecl>(Member->getMemberDecl()))
        if (!isa<CXXMethodDecl>(Value))
          Path.push_back(Value);
      E = Member->getBase();
      continue;
    }
    if (const Expr *Array = subscriptBase(E)) {
      E = Array; // `m_fds[1]`: the array member
      continue;
    }
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
      if (Call->getNumArgs() != 0)
        break;
      // An accessor of this object that returns a member (`write_fd()`
      // returning `m_fds[1]`): the member is the descriptor.
      if (const Expr *Returned = accessorResult(*Call)) {
        E = Returned;
        continue;
      }
      E = Call->getImplicitObjectArgument();
      continue;
    }
    if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
      // `(*sock).fd()`, `sock->fd()` through a smart pointer.
      if (Op->getNumArgs() != 1)
        break;
      E = Op->getArg(0);
      continue;
    }
    break;
  }
  return Path;
}

/// The variable or data member that owns the descriptor: the outermost one.
const ValueDecl *descriptorDecl(const Expr *E) {
  auto Path = descriptorPath(E);
  return Path.empty() ? nullptr : Path.back();
}

bool refersTo(const Expr *E, const ValueDecl *Descriptor) {
  return E && llvm::is_contained(descriptorPath(E), Descriptor);
}

/// Looks through the code that owns a descriptor for signs that it does not
/// block.
class DescriptorUses : public RecursiveASTVisitor<DescriptorUses> {
public:
  DescriptorUses(const ASTContext &Ctx, const ValueDecl *Descriptor)
      : Ctx(Ctx), Classifier(Ctx), Descriptor(Descriptor) {}

  bool shouldVisitLambdaBody() const { return true; }

  /// `for (int fd : m_fds) fcntl(fd, ...)`: the loop variable is the
  /// descriptor.
  bool VisitCXXForRangeStmt(CXXForRangeStmt *For) {
    if (For->getLoopVariable() && refersTo(For->getRangeInit(), Descriptor))
      Aliases.push_back(For->getLoopVariable());
    return true;
  }

  bool VisitCallExpr(CallExpr *Call) {
    bool Mentions = false;
    for (const Expr *Arg : Call->arguments())
      Mentions = Mentions || mentions(Arg);
    if (!Mentions)
      return true;
    const FunctionDecl *Callee = posixCallee(*Call);
    StringRef Name = Callee ? Callee->getName() : "";
    // fcntl(fd, F_SETFL, O_NONBLOCK), ioctl(fd, FIONBIO, ...), and
    // pipe2(fds, O_NONBLOCK), which makes the descriptors it creates.
    if ((Name == "fcntl" || Name == "ioctl" || Name == "pipe2") &&
        Call->getNumArgs() >= 2 && mentions(Call->getArg(0)) &&
        (names(Call, Ctx, NonBlockingFlags) ||
         llvm::any_of(Call->arguments(), [&](const Expr *Arg) {
           return llvm::any_of(descriptorPath(Arg), [&](const ValueDecl *D) {
             return llvm::is_contained(FlagHolders, D);
           });
         })))
      Found = true;
    else if (Classifier.classify(Call->getType()) ||
             Classifier.isAwaiter(Call->getType()))
      Found = true; // a task or an awaiter: awaited for readiness
    return !Found;
  }
  bool VisitCoawaitExpr(CoawaitExpr *Await) {
    if (referencesAny(Await->getOperand(), {Descriptor}))
      Found = true;
    return !Found;
  }
  bool VisitVarDecl(VarDecl *Var) {
    if (Var == Descriptor && names(Var->getInit(), Ctx, NonBlockingFlags))
      Found = true;
    else if (Var->hasLocalStorage() &&
             names(Var->getInit(), Ctx, NonBlockingFlags))
      FlagHolders.push_back(Var);
    return !Found;
  }
  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (Op->isAssignmentOp() && refersTo(Op->getLHS(), Descriptor) &&
        names(Op->getRHS(), Ctx, NonBlockingFlags))
      Found = true;
    // `flags |= O_NONBLOCK; fcntl(fd, F_SETFL, flags);`
    else if (Op->isAssignmentOp() && names(Op->getRHS(), Ctx, NonBlockingFlags))
      if (const auto *Ref =
              dyn_cast<DeclRefExpr>(Op->getLHS()->IgnoreParenImpCasts()))
        if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
            Var && Var->hasLocalStorage())
          FlagHolders.push_back(Var);
    return !Found;
  }
  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Op) {
    // A descriptor wrapper assigned from socket(..., SOCK_NONBLOCK, ...).
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
        refersTo(Op->getArg(0), Descriptor) &&
        names(Op->getArg(1), Ctx, NonBlockingFlags))
      Found = true;
    return VisitCallExpr(Op);
  }

  void constructorInits(const CXXConstructorDecl &Ctor) {
    for (const CXXCtorInitializer *Init : Ctor.inits())
      if (Init->getMember() == Descriptor &&
          names(Init->getInit(), Ctx, NonBlockingFlags))
        Found = true;
  }

  bool Found = false;

private:
  bool mentions(const Expr *E) const {
    if (refersTo(E, Descriptor))
      return true;
    return llvm::any_of(
        Aliases, [&](const ValueDecl *Alias) { return refersTo(E, Alias); });
  }

  const ASTContext &Ctx;
  TaskClassifier Classifier;
  const ValueDecl *Descriptor;
  llvm::SmallVector<const ValueDecl *, 2> Aliases;
  /// Local variables the non-blocking flag was put in.
  llvm::SmallVector<const ValueDecl *, 1> FlagHolders;
};

bool ownerShowsNonBlocking(const ValueDecl &Descriptor,
                           const FunctionDecl &Function,
                           const ASTContext &Ctx) {
  DescriptorUses Uses(Ctx, &Descriptor);
  const auto *Field = dyn_cast<FieldDecl>(&Descriptor);
  if (!Field) {
    Uses.TraverseStmt(Function.getBody());
    return Uses.Found;
  }
  const auto *Class = dyn_cast<CXXRecordDecl>(Field->getParent());
  if (!Class)
    return false;
  for (const Decl *Member : Class->decls()) {
    const FunctionDecl *Method = Member->getAsFunction();
    if (!Method)
      continue;
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition)
      continue;
    if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(Definition))
      Uses.constructorInits(*Ctor);
    if (!Uses.Found)
      Uses.TraverseStmt(Definition->getBody());
    if (Uses.Found)
      return true;
  }
  return false;
}

} // namespace

bool isNonBlockingDescriptorCall(const CallExpr &Call,
                                 const FunctionDecl &Function,
                                 const ASTContext &Ctx) {
  const FunctionDecl *Callee = posixCallee(Call);
  if (!Callee || !isDescriptorCallName(Callee->getName()) ||
      Call.getNumArgs() == 0)
    return false;
  const int Flags = flagsArgument(Callee->getName());
  if (Flags >= 0 && Flags < static_cast<int>(Call.getNumArgs()) &&
      names(Call.getArg(Flags), Ctx, {"MSG_DONTWAIT"}))
    return true;
  if (names(Function.getBody(), Ctx, WouldBlock))
    return true;
  const ValueDecl *Descriptor = descriptorDecl(Call.getArg(0));
  return Descriptor && ownerShowsNonBlocking(*Descriptor, Function, Ctx);
}

} // namespace coroscope
