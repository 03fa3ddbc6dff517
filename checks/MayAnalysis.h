//===--- MayAnalysis.h - forward "may" data flow over a function's CFG ----===//
//
// The analysis both lock checks run: facts are the entries of a map, a fact
// holds at a point when it holds on some path there, joins are unions. A
// check supplies the transfer function and replays the solved blocks once to
// report.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_MAYANALYSIS_H
#define COROSCOPE_CHECKS_MAYANALYSIS_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/Analysis/CFG.h"
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

/// A map key naming an AST node: \p Kind + its address.
inline std::string nodeKey(const char *Kind, const void *Node) {
  return std::string(Kind) + std::to_string(reinterpret_cast<uintptr_t>(Node));
}

/// \p Body's CFG with scope-end destructors and every expression as an
/// element; null when clang cannot build it.
inline std::unique_ptr<clang::CFG> buildFlowCFG(const clang::FunctionDecl &FD,
                                                const clang::Stmt &Body,
                                                clang::ASTContext &Ctx) {
  clang::CFG::BuildOptions Options;
  Options.AddImplicitDtors = true;
  Options.setAllAlwaysAdd();
  return clang::CFG::buildCFG(&FD, const_cast<clang::Stmt *>(&Body), &Ctx,
                              Options);
}

/// Runs \p Transfer(Element, Facts) over \p Graph to a fixpoint and returns
/// each block's entry facts; unreachable blocks have none. \p Facts is a
/// map: a join keeps the first value of each key, so the lattice is finite.
template <typename Facts, typename TransferFn>
std::vector<std::optional<Facts>> solveMayAnalysis(const clang::CFG &Graph,
                                                   TransferFn &&Transfer) {
  std::vector<std::optional<Facts>> In(Graph.getNumBlockIDs());
  std::deque<const clang::CFGBlock *> Work{&Graph.getEntry()};
  In[Graph.getEntry().getBlockID()] = Facts();
  while (!Work.empty()) {
    const clang::CFGBlock *Block = Work.front();
    Work.pop_front();
    Facts Out = *In[Block->getBlockID()];
    for (const clang::CFGElement &Element : *Block)
      Transfer(Element, Out);
    for (const clang::CFGBlock *Succ : Block->succs()) {
      if (!Succ)
        continue;
      std::optional<Facts> &Target = In[Succ->getBlockID()];
      bool Changed = !Target;
      if (!Target)
        Target = Facts();
      for (const auto &[Key, Value] : Out)
        Changed |= Target->emplace(Key, Value).second;
      if (Changed)
        Work.push_back(Succ);
    }
  }
  return In;
}

/// Applies \p Transfer once to every element of every reachable block,
/// starting from the solved entry facts \p In.
template <typename Facts, typename TransferFn>
void replayMayAnalysis(const clang::CFG &Graph,
                       const std::vector<std::optional<Facts>> &In,
                       TransferFn &&Transfer) {
  for (const clang::CFGBlock *Block : Graph) {
    if (!In[Block->getBlockID()])
      continue; // unreachable
    Facts State = *In[Block->getBlockID()];
    for (const clang::CFGElement &Element : *Block)
      Transfer(Element, State);
  }
}

} // namespace coroscope

#endif // COROSCOPE_CHECKS_MAYANALYSIS_H
