//===--- CoroutineKnowledge.cpp - What coroscope knows about coroutines ---===//

#include "CoroutineKnowledge.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/PrettyPrinter.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace coroscope {
namespace {

/// Finds a coroutine keyword in a body without entering nested lambdas or
/// local classes, which are functions of their own.
class CoroutineKeywordFinder
    : public RecursiveASTVisitor<CoroutineKeywordFinder> {
public:
  bool Found = false;
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool TraverseCXXRecordDecl(CXXRecordDecl *) { return true; }
  bool VisitCoawaitExpr(CoawaitExpr *) { return !(Found = true); }
  bool VisitDependentCoawaitExpr(DependentCoawaitExpr *) {
    return !(Found = true);
  }
  bool VisitCoyieldExpr(CoyieldExpr *) { return !(Found = true); }
  bool VisitCoreturnStmt(CoreturnStmt *) { return !(Found = true); }
};

void printPlainContext(const DeclContext *DC, llvm::raw_ostream &OS) {
  llvm::SmallVector<const DeclContext *, 8> Contexts;
  for (; DC && !DC->isTranslationUnit(); DC = DC->getParent())
    Contexts.push_back(DC);
  for (const DeclContext *C : llvm::reverse(Contexts)) {
    if (const auto *NS = dyn_cast<NamespaceDecl>(C)) {
      if (NS->isInline())
        continue;
      if (NS->isAnonymousNamespace())
        OS << "(anonymous namespace)::";
      else
        OS << NS->getName() << "::";
    } else if (const auto *Spec =
                   dyn_cast<ClassTemplateSpecializationDecl>(C)) {
      OS << Spec->getSpecializedTemplate()->getName() << "::";
    } else if (const auto *RD = dyn_cast<RecordDecl>(C)) {
      if (RD->getIdentifier())
        OS << RD->getName() << "::";
    }
    // Functions, linkage specs and other contexts add no name part.
  }
}

} // namespace

bool isCoroutine(const FunctionDecl &FD) {
  const Stmt *Body = FD.getBody();
  if (!Body)
    return false;
  if (isa<CoroutineBodyStmt>(Body))
    return true;
  // Invalid or dependent bodies may not have been wrapped; look for keywords.
  CoroutineKeywordFinder Finder;
  Finder.TraverseStmt(const_cast<Stmt *>(Body));
  return Finder.Found;
}

const Stmt *userBody(const FunctionDecl &FD) {
  const Stmt *Body = FD.getBody();
  if (const auto *Coro = dyn_cast_or_null<CoroutineBodyStmt>(Body))
    return Coro->getBody();
  return Body;
}

bool isInstantiated(const FunctionDecl &FD) {
  for (const DeclContext *DC = &FD; DC; DC = DC->getParent()) {
    if (const auto *F = dyn_cast<FunctionDecl>(DC)) {
      if (F->isTemplateInstantiation() ||
          F->getTemplateSpecializationKind() == TSK_ImplicitInstantiation)
        return true;
    } else if (const auto *RD = dyn_cast<CXXRecordDecl>(DC)) {
      TemplateSpecializationKind Kind = RD->getTemplateSpecializationKind();
      if (Kind == TSK_ImplicitInstantiation ||
          Kind == TSK_ExplicitInstantiationDeclaration ||
          Kind == TSK_ExplicitInstantiationDefinition)
        return true;
    }
  }
  return false;
}

std::string plainQualifiedName(const NamedDecl &D) {
  std::string Name;
  llvm::raw_string_ostream OS(Name);
  printPlainContext(D.getDeclContext(), OS);
  if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(&D)) {
    const CXXRecordDecl *RD = Ctor->getParent();
    if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      OS << Spec->getSpecializedTemplate()->getName();
    else
      OS << RD->getName();
  } else if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(&D)) {
    OS << Spec->getSpecializedTemplate()->getName();
  } else {
    D.printName(OS);
  }
  return Name;
}

std::string functionDiagName(const FunctionDecl &FD) {
  const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
  if (Method && Method->getParent()->isLambda()) {
    const ASTContext &Ctx = FD.getASTContext();
    PrintingPolicy Policy(Ctx.getLangOpts());
#if CLANG_VERSION_MAJOR >= 22
    QualType Closure = Ctx.getCanonicalTagType(Method->getParent());
#else
    QualType Closure = Ctx.getRecordType(Method->getParent());
#endif
    return Closure.getAsString(Policy);
  }
  std::string Name;
  llvm::raw_string_ostream OS(Name);
  if (Method) {
    const CXXRecordDecl *Class = Method->getParent();
    if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(Class))
      OS << Spec->getSpecializedTemplate()->getName() << "::";
    else if (Class->getIdentifier())
      OS << Class->getName() << "::";
  }
  FD.printName(OS);
  return Name;
}

std::string calleeName(const FunctionDecl &FD) {
  const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
  if (Method && Method->getParent()->isLambda())
    return functionDiagName(FD);
  return plainQualifiedName(FD);
}

const FunctionDecl *enclosingNamedFunction(const CXXMethodDecl &LambdaCall) {
  for (const DeclContext *DC = LambdaCall.getParent()->getParent(); DC;
       DC = DC->getParent()) {
    const auto *Enclosing = dyn_cast<FunctionDecl>(DC);
    if (!Enclosing)
      continue;
    const auto *EnclosingMethod = dyn_cast<CXXMethodDecl>(Enclosing);
    if (EnclosingMethod && EnclosingMethod->getParent()->isLambda())
      continue;
    return Enclosing;
  }
  return nullptr;
}

SourceLocation callBegin(const CallExpr &Call) {
  if (const auto *Operator = dyn_cast<CXXOperatorCallExpr>(&Call))
    if ((Operator->getOperator() == OO_Call ||
         Operator->getOperator() == OO_Subscript) &&
        Operator->getNumArgs() > 0)
      return Operator->getArg(0)->getBeginLoc();
  return Call.getBeginLoc();
}

std::string reportFunctionName(const FunctionDecl &FD) {
  const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
  if (!Method || !Method->getParent()->isLambda())
    return functionDiagName(FD);
  const SourceManager &SM = FD.getASTContext().getSourceManager();
  PresumedLoc At =
      SM.getPresumedLoc(SM.getExpansionLoc(Method->getParent()->getLocation()));
  std::string Name;
  llvm::raw_string_ostream OS(Name);
  if (const FunctionDecl *Enclosing = enclosingNamedFunction(*Method))
    OS << functionDiagName(*Enclosing) << "::";
  OS << "(lambda";
  if (At.isValid())
    OS << " at " << llvm::sys::path::filename(At.getFilename()) << ":"
       << At.getLine() << ":" << At.getColumn();
  OS << ")";
  return Name;
}

bool declaresPromiseType(QualType T) {
  const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return false;
  const IdentifierInfo &Promise =
      RD->getASTContext().Idents.get("promise_type");
  for (const NamedDecl *D : RD->getDefinition()->lookup(&Promise))
    if (isa<TypeDecl>(D) || isa<TypeAliasTemplateDecl>(D))
      return true;
  return false;
}

std::string describeCoroutine(const FunctionDecl &FD) {
  const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
  if (Method && Method->getParent()->isLambda())
    if (const FunctionDecl *Enclosing = enclosingNamedFunction(*Method))
      return "coroutine lambda in '" + functionDiagName(*Enclosing) + "'";
  return "coroutine '" + functionDiagName(FD) + "'";
}

const CXXRecordDecl *objectClass(const Expr &Object) {
  QualType Type = Object.getType();
  if (Type->isPointerType())
    Type = Type->getPointeeType();
  return Type.getNonReferenceType()->getAsCXXRecordDecl();
}

bool referencesAny(const Stmt *S, llvm::ArrayRef<const ValueDecl *> Decls) {
  struct Finder : RecursiveASTVisitor<Finder> {
    llvm::ArrayRef<const ValueDecl *> Decls;
    bool Found = false;
    bool VisitDeclRefExpr(DeclRefExpr *Ref) {
      Found = llvm::is_contained(Decls, Ref->getDecl());
      return !Found;
    }
    bool VisitMemberExpr(MemberExpr *Member) {
      Found = llvm::is_contained(Decls, Member->getMemberDecl());
      return !Found;
    }
  } F;
  F.Decls = Decls;
  if (S)
    F.TraverseStmt(const_cast<Stmt *>(S));
  return F.Found;
}

const Expr *skipTransparent(const Expr *E) {
  while (E) {
    if (const auto *Default = dyn_cast<CXXDefaultArgExpr>(E))
      E = Default->getExpr();
    else if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(E))
      E = Cleanups->getSubExpr();
    else if (const auto *Paren = dyn_cast<ParenExpr>(E))
      E = Paren->getSubExpr();
    else if (const auto *Bind = dyn_cast<CXXBindTemporaryExpr>(E))
      E = Bind->getSubExpr();
    else if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E);
             Cast && (Cast->getCastKind() == CK_NoOp ||
                      Cast->getCastKind() == CK_DerivedToBase ||
                      Cast->getCastKind() == CK_UncheckedDerivedToBase ||
                      Cast->getCastKind() == CK_ConstructorConversion ||
                      Cast->getCastKind() == CK_UserDefinedConversion))
      E = Cast->getSubExpr();
    else
      return E;
  }
  return E;
}

bool isStdMoveOrForward(const CallExpr &Call) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || Call.getNumArgs() != 1 || !Callee->isInStdNamespace() ||
      !Callee->getIdentifier())
    return false;
  StringRef Name = Callee->getName();
  return Name == "move" || Name == "forward" || Name == "as_const";
}

std::string shortSourceText(const Expr &E, const ASTContext &Ctx,
                            unsigned MaxLength) {
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange Range = CharSourceRange::getTokenRange(E.getSourceRange());
  if (E.getBeginLoc().isMacroID() || E.getEndLoc().isMacroID())
    Range = Lexer::makeFileCharRange(Range, SM, Ctx.getLangOpts());
  if (Range.isInvalid())
    return "";
  StringRef Text = Lexer::getSourceText(Range, SM, Ctx.getLangOpts());
  if (Text.empty() || Text.size() > MaxLength || Text.contains('\n'))
    return "";
  return Text.str();
}

std::pair<std::string, SourceLocation>
describeInstantiation(const FunctionDecl &FD) {
  for (const DeclContext *DC = &FD; DC; DC = DC->getParent()) {
    std::string Name;
    llvm::raw_string_ostream OS(Name);
    if (const auto *F = dyn_cast<FunctionDecl>(DC)) {
      if (!F->isTemplateInstantiation())
        continue;
      // A member of a class template specialization is named with it.
      const auto *Owner =
          dyn_cast<ClassTemplateSpecializationDecl>(F->getDeclContext());
      if (Owner && !F->isFunctionTemplateSpecialization()) {
        Owner->getNameForDiagnostic(OS, F->getASTContext().getPrintingPolicy(),
                                    /*Qualified=*/false);
        OS << "::";
      }
      F->getNameForDiagnostic(OS, F->getASTContext().getPrintingPolicy(),
                              /*Qualified=*/false);
      SourceLocation Loc = F->getPointOfInstantiation();
      return {Name, Loc.isValid() ? Loc : F->getLocation()};
    }
    if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(DC)) {
      Spec->getNameForDiagnostic(OS, Spec->getASTContext().getPrintingPolicy(),
                                 /*Qualified=*/false);
      SourceLocation Loc = Spec->getPointOfInstantiation();
      return {Name, Loc.isValid() ? Loc : Spec->getLocation()};
    }
  }
  return {functionDiagName(FD), FD.getLocation()};
}

namespace {
const CXXRecordDecl *definitionOrPattern(const CXXRecordDecl &RD) {
  if (const CXXRecordDecl *Definition = RD.getDefinition())
    return Definition;
  if (const CXXRecordDecl *Pattern = RD.getTemplateInstantiationPattern())
    return Pattern;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(&RD))
    return Spec->getSpecializedTemplate()->getTemplatedDecl()->getDefinition();
  return nullptr;
}
} // namespace

const CXXRecordDecl *classForMembers(QualType T) {
  T = T.getNonReferenceType();
  if (const CXXRecordDecl *RD = T->getAsCXXRecordDecl())
    return definitionOrPattern(*RD);
  // A dependent specialization, as in a partial specialization's members.
  if (const auto *Spec = T->getAs<TemplateSpecializationType>())
    if (const auto *Template = dyn_cast_or_null<ClassTemplateDecl>(
            Spec->getTemplateName().getAsTemplateDecl()))
      return Template->getTemplatedDecl()->getDefinition();
  return nullptr;
}

namespace {

/// Calls \p Visit on every member named \p Name of \p RD and of its bases,
/// nearest first. Dependent bases are read from their patterns.
template <typename Fn>
void forEachMember(const CXXRecordDecl *RD, DeclarationName Name, Fn Visit,
                   unsigned Depth = 0) {
  if (!RD || Depth > 16)
    return;
  for (const NamedDecl *D : RD->lookup(Name))
    Visit(D);
  for (const CXXBaseSpecifier &Base : RD->bases())
    forEachMember(classForMembers(Base.getType()), Name, Visit, Depth + 1);
}

bool hasMember(const CXXRecordDecl *RD, DeclarationName Name) {
  bool Found = false;
  forEachMember(RD, Name, [&](const NamedDecl *) { Found = true; });
  return Found;
}

const FunctionDecl *asFunction(const NamedDecl *D) {
  if (const auto *Template = dyn_cast<FunctionTemplateDecl>(D))
    return Template->getTemplatedDecl();
  return dyn_cast<FunctionDecl>(D);
}

/// The class template \p RD is an instantiation of, or null.
const ClassTemplateDecl *templateOf(const CXXRecordDecl &RD) {
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(&RD))
    return Spec->getSpecializedTemplate()->getCanonicalDecl();
  if (const ClassTemplateDecl *Described = RD.getDescribedClassTemplate())
    return Described->getCanonicalDecl();
  return nullptr;
}

/// True when parameter type \p Param names \p Class itself or, as a
/// (possibly dependent) specialization, the template \p Class comes from.
bool namesClass(QualType Param, const CXXRecordDecl &Class) {
  Param = Param.getNonReferenceType().getUnqualifiedType();
  const ClassTemplateDecl *Template = templateOf(Class);
  if (const auto *Spec = Param->getAs<TemplateSpecializationType>()) {
    const TemplateDecl *Named = Spec->getTemplateName().getAsTemplateDecl();
    if (Template && Named && Named->getCanonicalDecl() == Template)
      return true;
  }
  const CXXRecordDecl *RD = Param->getAsCXXRecordDecl();
  if (!RD)
    return false;
  if (RD->getCanonicalDecl() == Class.getCanonicalDecl())
    return true;
  return Template && templateOf(*RD) == Template;
}

bool firstParameterNames(const NamedDecl *D, const CXXRecordDecl &Class) {
  const FunctionDecl *F = asFunction(D);
  return F && F->getNumParams() >= 1 &&
         namesClass(F->getParamDecl(0)->getType(), Class);
}

/// Whether an awaiter's await_ready is constant: true, false or unknown.
std::optional<bool> constantAwaitReady(const CXXRecordDecl *Awaiter,
                                       const ASTContext &Ctx) {
  std::optional<bool> Result;
  bool Known = true;
  const FunctionDecl *Ready = nullptr;
  forEachMember(Awaiter, &Ctx.Idents.get("await_ready"),
                [&](const NamedDecl *D) {
                  if (!Ready)
                    Ready = asFunction(D);
                });
  if (!Ready || !Ready->hasBody())
    return std::nullopt;
  const FunctionDecl *Definition = nullptr;
  const Stmt *Body = Ready->getBody(Definition);
  const auto *Compound = dyn_cast_or_null<CompoundStmt>(Body);
  if (!Compound)
    return std::nullopt;
  for (const Stmt *S : Compound->body()) {
    const auto *Return = dyn_cast<ReturnStmt>(S);
    if (!Return)
      continue;
    const Expr *Value = Return->getRetValue();
    bool Constant = false;
    if (!Value || Value->isValueDependent() ||
        !Value->EvaluateAsBooleanCondition(Constant, Ctx)) {
      Known = false;
      break;
    }
    if (Result && *Result != Constant) {
      Known = false;
      break;
    }
    Result = Constant;
  }
  return Known ? Result : std::nullopt;
}

/// The type a member function returns; for an undeduced `auto` in a
/// template pattern, the type of its first returned expression.
QualType returnedType(const FunctionDecl &F) {
  QualType Type = F.getReturnType();
  if (!Type->getContainedDeducedType() || !Type->isUndeducedType())
    return Type;
  const auto *Compound = dyn_cast_or_null<CompoundStmt>(F.getBody());
  if (!Compound)
    return Type;
  for (const Stmt *S : Compound->body())
    if (const auto *Return = dyn_cast<ReturnStmt>(S))
      if (const Expr *Value = Return->getRetValue())
        return Value->getType();
  return Type;
}

} // namespace

const ClassTemplateDecl *TaskClassifier::coroutineTraits() {
  if (Traits)
    return *Traits;
  Traits = nullptr;
  const IdentifierInfo &Std = Ctx.Idents.get("std");
  const IdentifierInfo &Name = Ctx.Idents.get("coroutine_traits");
  for (const NamedDecl *D : Ctx.getTranslationUnitDecl()->lookup(&Std)) {
    const auto *NS = dyn_cast<NamespaceDecl>(D);
    if (!NS)
      continue;
    llvm::SmallVector<const DeclContext *, 4> Scopes{NS};
    for (const Decl *Member : NS->decls())
      if (const auto *Inline = dyn_cast<NamespaceDecl>(Member))
        if (Inline->isInline())
          Scopes.push_back(Inline);
    for (const DeclContext *Scope : Scopes)
      for (const NamedDecl *Found : Scope->lookup(&Name))
        if (const auto *Template = dyn_cast<ClassTemplateDecl>(Found))
          return *Traits = Template->getCanonicalDecl();
  }
  return nullptr;
}

const CXXRecordDecl *TaskClassifier::promiseOf(QualType T) {
  const CXXRecordDecl *Class = classForMembers(T);
  if (!Class)
    return nullptr;
  auto PromiseIn = [&](const CXXRecordDecl *Scope) -> const CXXRecordDecl * {
    const CXXRecordDecl *Promise = nullptr;
    forEachMember(Scope, &Ctx.Idents.get("promise_type"),
                  [&](const NamedDecl *D) {
                    if (Promise)
                      return;
                    if (const auto *Alias = dyn_cast<TypedefNameDecl>(D))
                      Promise = classForMembers(Alias->getUnderlyingType());
                    else if (const auto *Nested = dyn_cast<CXXRecordDecl>(D))
                      Promise = definitionOrPattern(*Nested);
                  });
    return Promise;
  };
  if (const CXXRecordDecl *Nested = PromiseIn(Class))
    return Nested;
  const ClassTemplateDecl *CoroutineTraits = coroutineTraits();
  if (!CoroutineTraits)
    return nullptr;
  auto FirstArgumentIsClass = [&](const TemplateArgumentList &Args) {
    return Args.size() >= 1 && Args[0].getKind() == TemplateArgument::Type &&
           namesClass(Args[0].getAsType(), *Class);
  };
  // Explicit and instantiated specializations first: their promise types
  // are concrete. Then the partial specializations' patterns.
  for (const ClassTemplateSpecializationDecl *Spec :
       CoroutineTraits->specializations())
    if (Spec->hasDefinition() &&
        FirstArgumentIsClass(Spec->getTemplateArgs()) &&
        Ctx.hasSameType(Spec->getTemplateArgs()[0].getAsType(), T))
      if (const CXXRecordDecl *Promise = PromiseIn(Spec->getDefinition()))
        return Promise;
  llvm::SmallVector<ClassTemplatePartialSpecializationDecl *, 4> Partials;
  const_cast<ClassTemplateDecl *>(CoroutineTraits)
      ->getPartialSpecializations(Partials);
  for (const ClassTemplatePartialSpecializationDecl *Partial : Partials)
    if (FirstArgumentIsClass(Partial->getTemplateArgs()))
      if (const CXXRecordDecl *Promise = PromiseIn(Partial))
        return Promise;
  return nullptr;
}

TaskStart TaskClassifier::startOf(const CXXRecordDecl &Promise) {
  const FunctionDecl *Initial = nullptr;
  forEachMember(&Promise, &Ctx.Idents.get("initial_suspend"),
                [&](const NamedDecl *D) {
                  if (!Initial)
                    Initial = asFunction(D);
                });
  if (!Initial)
    return TaskStart::Eager;
  const CXXRecordDecl *Awaiter = classForMembers(returnedType(*Initial));
  if (!Awaiter)
    return TaskStart::Eager;
  std::optional<bool> Ready = constantAwaitReady(Awaiter, Ctx);
  return Ready && !*Ready ? TaskStart::Lazy : TaskStart::Eager;
}

bool TaskClassifier::selfAwaitable(const CXXRecordDecl &Class) {
  if (hasMember(&Class, Ctx.DeclarationNames.getCXXOperatorName(OO_Coawait)))
    return true;
  if (hasMember(&Class, &Ctx.Idents.get("await_ready")) &&
      hasMember(&Class, &Ctx.Idents.get("await_suspend")) &&
      hasMember(&Class, &Ctx.Idents.get("await_resume")))
    return true;
  // A free operator co_await, found where argument-dependent lookup would:
  // the class's namespace (friends declared in the class live there too).
  const DeclContext *Namespace = Class.getEnclosingNamespaceContext();
  for (const NamedDecl *D :
       Namespace->lookup(Ctx.DeclarationNames.getCXXOperatorName(OO_Coawait)))
    if (firstParameterNames(D, Class))
      return true;
  for (const Decl *Friend : Class.decls())
    if (const auto *FD = dyn_cast<FriendDecl>(Friend))
      if (const NamedDecl *Named = FD->getFriendDecl())
        if (const FunctionDecl *F = asFunction(Named))
          if (F->getOverloadedOperator() == OO_Coawait &&
              firstParameterNames(Named, Class))
            return true;
  return false;
}

std::optional<TaskInfo> TaskClassifier::classify(QualType T) {
  T = T.getNonReferenceType();
  if (T.isNull() || T->isDependentType() || !T->isRecordType())
    return std::nullopt;
  const Type *Key = T->getCanonicalTypeUnqualified().getTypePtr();
  if (auto It = Cache.find(Key); It != Cache.end())
    return It->second;
  std::optional<TaskInfo> Result;
  const CXXRecordDecl *Class = T->getAsCXXRecordDecl();
  const CXXRecordDecl *Members = classForMembers(T);
  const CXXRecordDecl *Promise = Members ? promiseOf(T) : nullptr;
  if (Class && Promise) {
    bool Awaitable = selfAwaitable(*Members);
    if (!Awaitable)
      forEachMember(Promise, &Ctx.Idents.get("await_transform"),
                    [&](const NamedDecl *D) {
                      Awaitable = Awaitable || firstParameterNames(D, *Class);
                    });
    if (Awaitable)
      Result = TaskInfo{Class, Promise, startOf(*Promise)};
  }
  return Cache[Key] = Result;
}

bool TaskClassifier::isAwaiter(QualType T) {
  T = T.getNonReferenceType();
  if (T.isNull() || T->isDependentType() || !T->isRecordType())
    return false;
  const CXXRecordDecl *Members = classForMembers(T);
  return Members && !promiseOf(T) && selfAwaitable(*Members);
}

bool TaskClassifier::awaitableIn(const TaskInfo &Task,
                                 const CXXRecordDecl &Promise) {
  bool HasTransform = false;
  bool Accepts = false;
  forEachMember(&Promise, &Ctx.Idents.get("await_transform"),
                [&](const NamedDecl *D) {
                  HasTransform = true;
                  Accepts = Accepts || firstParameterNames(D, *Task.Class);
                });
  if (HasTransform)
    return Accepts;
  const CXXRecordDecl *Members = definitionOrPattern(*Task.Class);
  return Members && selfAwaitable(*Members);
}

} // namespace coroscope
