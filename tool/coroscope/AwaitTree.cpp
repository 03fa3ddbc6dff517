//===- AwaitTree.cpp - the await tree and its cycles ----------------------===//

#include "AwaitTree.h"
#include "SnapshotViews.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace coroscope::tool {
namespace {

/// Who awaits whom: X -> Y when X is suspended awaiting Y, or waiting for
/// an async lock Y holds.
DenseMap<std::uint64_t, std::vector<std::uint64_t>>
awaitEdges(const Snapshot &S) {
  DenseMap<std::uint64_t, const CoroutineRow *> ById;
  for (const CoroutineRow &R : S.Coroutines)
    ById[R.Id] = &R;
  DenseMap<std::uint64_t, std::vector<std::uint64_t>> Edges;
  for (const CoroutineRow &R : S.Coroutines) {
    if (R.Awaited) {
      const CoroutineRow *Parent = ById.lookup(R.ParentId);
      if (Parent && Parent->State == "suspended")
        Edges[Parent->Id].push_back(R.Id);
    }
    if (R.WaitsOn != 0 && R.State == "suspended" && ById.count(R.WaitsOn))
      Edges[R.Id].push_back(R.WaitsOn);
    if (R.LockHolder != 0 && R.State == "suspended" &&
        ById.count(R.LockHolder))
      Edges[R.Id].push_back(R.LockHolder);
  }
  return Edges;
}

} // namespace

std::vector<Cycle> findCycles(const Snapshot &S) {
  auto Edges = awaitEdges(S);
  DenseMap<std::uint64_t, const CoroutineRow *> ById;
  for (const CoroutineRow &R : S.Coroutines)
    ById[R.Id] = &R;
  // Iterative three-colour depth-first search.
  enum Colour : std::uint8_t { White, Grey, Black };
  DenseMap<std::uint64_t, Colour> Seen;
  std::vector<Cycle> Cycles;
  for (const CoroutineRow &Start : S.Coroutines) {
    if (Seen.lookup(Start.Id) != White)
      continue;
    std::vector<std::pair<std::uint64_t, size_t>> Stack{{Start.Id, 0}};
    Seen[Start.Id] = Grey;
    while (!Stack.empty()) {
      auto &[Node, Next] = Stack.back();
      auto Found = Edges.find(Node);
      if (Found == Edges.end() || Next >= Found->second.size()) {
        Seen[Node] = Black;
        Stack.pop_back();
        continue;
      }
      std::uint64_t To = Found->second[Next++];
      Colour C = Seen.lookup(To);
      if (C == White) {
        Seen[To] = Grey;
        Stack.push_back({To, 0});
      } else if (C == Grey && Cycles.size() < 100) {
        Cycle Loop;
        auto From = llvm::find_if(
            Stack, [&](const auto &Entry) { return Entry.first == To; });
        for (auto It = From; It != Stack.end(); ++It)
          Loop.push_back(ById.lookup(It->first));
        Cycles.push_back(std::move(Loop));
      }
    }
  }
  return Cycles;
}

std::string renderTree(const Snapshot &S, const std::vector<Cycle> &Cycles) {
  std::string Text;
  raw_string_ostream Out(Text);
  DenseMap<std::uint64_t, const CoroutineRow *> ById;
  for (const CoroutineRow &R : S.Coroutines)
    ById[R.Id] = &R;
  // Children: the coroutines a node awaits, then the ones it spawned.
  DenseMap<std::uint64_t, std::vector<const CoroutineRow *>> Awaited, Spawned;
  std::vector<const CoroutineRow *> Roots;
  for (const CoroutineRow &R : S.Coroutines) {
    if (R.Awaited && ById.count(R.ParentId))
      Awaited[R.ParentId].push_back(&R);
    else if (R.CreatorId != 0 && ById.count(R.CreatorId))
      Spawned[R.CreatorId].push_back(&R);
    else
      Roots.push_back(&R);
  }
  auto ByIdOrder = [](const CoroutineRow *A, const CoroutineRow *B) {
    return A->Id < B->Id;
  };
  llvm::sort(Roots, ByIdOrder);
  Out << S.Target << ": " << S.Coroutines.size() << " coroutine"
      << (S.Coroutines.size() == 1 ? "" : "s") << "\n";
  DenseMap<std::uint64_t, bool> Printed;
  // Iterative, so that a deep chain cannot overflow the stack.
  struct Item {
    const CoroutineRow *Row;
    std::string Prefix;
    bool Last, Spawn;
  };
  auto Print = [&](const std::vector<const CoroutineRow *> &Tops) {
    std::vector<Item> Work;
    for (size_t I = Tops.size(); I-- > 0;)
      Work.push_back({Tops[I], "", I + 1 == Tops.size(), false});
    while (!Work.empty()) {
      Item It = std::move(Work.back());
      Work.pop_back();
      const CoroutineRow &R = *It.Row;
      Out << It.Prefix << (It.Last ? "└── " : "├── ");
      if (It.Spawn)
        Out << (R.CreationSite->Known
                    ? "[spawned at " + R.CreationSite->where() + "] "
                    : std::string("[spawned] "));
      Out << "#" << R.Id << " " << bodyText(R) << "  " << stateText(R);
      if (Printed[R.Id]) {
        Out << " (shown above)\n";
        continue;
      }
      Printed[R.Id] = true;
      Out << "\n";
      std::vector<std::pair<const CoroutineRow *, bool>> Children;
      auto A = Awaited.lookup(R.Id), Sp = Spawned.lookup(R.Id);
      llvm::sort(A, ByIdOrder);
      llvm::sort(Sp, ByIdOrder);
      for (const CoroutineRow *C : A)
        Children.push_back({C, false});
      for (const CoroutineRow *C : Sp)
        Children.push_back({C, true});
      std::string ChildPrefix = It.Prefix + (It.Last ? "    " : "│   ");
      for (size_t I = Children.size(); I-- > 0;)
        Work.push_back({Children[I].first, ChildPrefix,
                        I + 1 == Children.size(), Children[I].second});
    }
  };
  Print(Roots);
  // Records whose parents form a loop have no root above them.
  std::vector<const CoroutineRow *> Rest;
  for (const CoroutineRow &R : S.Coroutines)
    if (!Printed.lookup(R.Id))
      Rest.push_back(&R);
  llvm::sort(Rest, ByIdOrder);
  if (!Rest.empty())
    Print(Rest);
  for (const std::string &Line : threadLockLines(S))
    Out << Line << "\n";
  for (const Cycle &Loop : Cycles) {
    Out << "cycle: ";
    for (const CoroutineRow *R : Loop)
      Out << "#" << R->Id << " " << R->label() << " (" << R->Site->where()
          << ") -> ";
    Out << "#" << Loop.front()->Id << " " << Loop.front()->label() << "\n";
  }
  return Text;
}

} // namespace coroscope::tool
