//===--- StronglyConnected.h - Tarjan's algorithm, without recursion ------===//
//
// The lock graph's cycles and the link phase's call graph both need the
// strongly connected components of a graph that can be deep (a call chain
// of any length): this walks it with an explicit stack.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_STRONGLYCONNECTED_H
#define COROSCOPE_CHECKS_STRONGLYCONNECTED_H

#include "llvm/ADT/ArrayRef.h"
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace coroscope {

/// Calls \p OnComponent with the members of each strongly connected
/// component of the nodes reachable from \p Roots, a component after every
/// component it reaches (callees first). \p Degree(Node) is a node's number
/// of out-edges and \p Successor(Node, I) the target of edge I, or nullopt
/// for an edge to ignore.
template <typename DegreeFn, typename SuccessorFn, typename ComponentFn>
void forEachStronglyConnectedComponent(size_t NodeCount,
                                       llvm::ArrayRef<unsigned> Roots,
                                       DegreeFn Degree, SuccessorFn Successor,
                                       ComponentFn OnComponent) {
  const unsigned None = ~0u;
  std::vector<unsigned> Order(NodeCount, None), Low(NodeCount, 0);
  std::vector<bool> OnStack(NodeCount, false);
  std::vector<unsigned> Stack;
  unsigned Counter = 0;
  for (unsigned Root : Roots) {
    if (Order[Root] != None)
      continue;
    std::vector<std::pair<unsigned, size_t>> Frames{{Root, 0}};
    Order[Root] = Low[Root] = Counter++;
    Stack.push_back(Root);
    OnStack[Root] = true;
    while (!Frames.empty()) {
      auto &[Node, Next] = Frames.back();
      if (Next < Degree(Node)) {
        std::optional<unsigned> Succ = Successor(Node, Next++);
        if (!Succ)
          continue;
        if (Order[*Succ] == None) {
          Order[*Succ] = Low[*Succ] = Counter++;
          Stack.push_back(*Succ);
          OnStack[*Succ] = true;
          Frames.push_back({*Succ, 0});
        } else if (OnStack[*Succ]) {
          Low[Node] = std::min(Low[Node], Order[*Succ]);
        }
        continue;
      }
      if (Low[Node] == Order[Node]) {
        std::vector<unsigned> Members;
        unsigned Member;
        do {
          Member = Stack.back();
          Stack.pop_back();
          OnStack[Member] = false;
          Members.push_back(Member);
        } while (Member != Node);
        OnComponent(std::move(Members));
      }
      unsigned Done = Node;
      Frames.pop_back();
      if (!Frames.empty())
        Low[Frames.back().first] =
            std::min(Low[Frames.back().first], Low[Done]);
    }
  }
}

} // namespace coroscope

#endif // COROSCOPE_CHECKS_STRONGLYCONNECTED_H
