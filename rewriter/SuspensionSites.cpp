//===--- SuspensionSites.cpp - what both engines instrument ---------------===//

#include "SuspensionSites.h"

#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace coroscope::rewriter {

std::string siteFileName(const SourceManager &SM, FileID FID) {
  OptionalFileEntryRef Entry = SM.getFileEntryRefForID(FID);
  if (FID == SM.getMainFileID())
    return Entry->getName().str();
  StringRef Real = Entry->getFileEntry().tryGetRealPathName();
  return Real.empty() ? Entry->getName().str() : Real.str();
}

bool buildTableSafely(StringRef InFile, StringRef What, StringRef Consequence,
                      llvm::function_ref<void()> Build) {
  llvm::CrashRecoveryContext Recovery;
  if (Recovery.RunSafely(Build))
    return true;
  llvm::errs() << InFile << ": warning: coroscope: " << What << " crashed; "
               << Consequence << "\n";
  return false;
}

bool ProjectFiles::contains(FileID FID) {
  if (FID.isInvalid())
    return false;
  auto [It, New] = Cache.try_emplace(FID, false);
  if (New)
    It->second = decide(FID);
  return It->second;
}

bool ProjectFiles::isSystem(FileID FID) const {
  return SrcMgr::isSystem(
      SM.getFileCharacteristic(SM.getLocForStartOfFile(FID)));
}

bool ProjectFiles::decide(FileID FID) const {
  if (!SM.getFileEntryRefForID(FID))
    return false; // the predefines buffer, scratch space
  if (FID == SM.getMainFileID())
    return true;
  if (isSystem(FID))
    return false;
  return Filter.match(SM.getFileEntryRefForID(FID)->getName());
}

void collectTailYields(const Stmt *S,
                       llvm::SmallPtrSetImpl<const Stmt *> &Out) {
  if (!S)
    return;
  if (const auto *Block = dyn_cast<CompoundStmt>(S)) {
    for (auto It = Block->body_rbegin(); It != Block->body_rend(); ++It)
      if (!isa<NullStmt>(*It))
        return collectTailYields(*It, Out);
    return;
  }
  if (const auto *If = dyn_cast<IfStmt>(S)) {
    collectTailYields(If->getThen(), Out);
    collectTailYields(If->getElse(), Out);
    return;
  }
  if (const auto *E = dyn_cast<Expr>(S))
    if (const auto *Yield =
            dyn_cast<CoyieldExpr>(E->IgnoreImplicit()->IgnoreParens()))
      Out.insert(Yield);
}

bool hasSourceHooks(const CompoundStmt &Body) {
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

bool createsCoroutine(const CallExpr &Call, TaskClassifier &Tasks) {
  QualType Type = Call.getType();
  return !Type.isNull() && !Type->isDependentType() && Tasks.promiseOf(Type);
}

SourceLocation creationCallBegin(const CallExpr &Call) {
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(&Call);
      Op && Op->getOperator() == OO_Call && Op->getNumArgs() > 0)
    return Op->getArg(0)->getBeginLoc();
  return Call.getBeginLoc();
}

llvm::DenseMap<const Expr *, const Stmt *>
operandsOf(const std::vector<SuspensionSite> &Sites) {
  llvm::DenseMap<const Expr *, const Stmt *> Operands;
  for (const SuspensionSite &Site : Sites)
    if (const Expr *Operand = suspensionOperand(Site.S))
      Operands.try_emplace(Operand->IgnoreImplicit()->IgnoreParens(), Site.S);
  return Operands;
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

bool SiteFinder::VisitVarDecl(VarDecl *D) {
  if (!D->hasInit() || D->getType()->isReferenceType() ||
      D->getType()->isScalarType())
    return true;
  const Expr *Init = D->getInit()->IgnoreImplicit();
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(Init))
    if (Construct->getNumArgs() == 1)
      Init = Construct->getArg(0)->IgnoreImplicit();
  Init = Init->IgnoreParens();
  if (isa<CoawaitExpr, DependentCoawaitExpr>(Init))
    InitializesObject.insert(Init);
  return true;
}

bool SiteFinder::TraverseCXXForRangeStmt(CXXForRangeStmt *S) {
  if ((S->getInit() && !TraverseStmt(S->getInit())) ||
      !TraverseStmt(S->getLoopVarStmt()))
    return false;
  ++RangeInitDepth;
  bool Continue = TraverseStmt(S->getRangeInit());
  --RangeInitDepth;
  return Continue && TraverseStmt(S->getBody());
}

} // namespace coroscope::rewriter
