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

namespace {
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
} // namespace

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

} // namespace coroscope
