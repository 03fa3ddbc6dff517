//===--- LockGraph.cpp - lock-order edges, cycles and facts files ---------===//

#include "LockGraph.h"
#include "StronglyConnected.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <deque>
#include <numeric>
#include <set>

namespace coroscope::lockgraph {

std::string describe(const Edge &E) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << "'" << E.From << "' then '" << E.To << "' in '" << E.Function << "' at "
     << E.At.File << ":" << E.At.Line;
  for (const Step &S : E.Via)
    OS << ", via '" << S.Function << "' at " << S.At.File << ":" << S.At.Line;
  if (E.RunTime)
    OS << (E.Static ? " (also seen at run time)"
                    : " (seen at run time only: no translation unit's analysis "
                      "shows this order)");
  return Text;
}

llvm::StringRef evidence(const Edge &E) {
  return E.Static && E.RunTime ? "both" : E.RunTime ? "run-time" : "static";
}

llvm::StringRef evidence(const Cycle &C) {
  bool AllStatic = true, AllRunTime = true;
  for (const Edge *E : C.Edges) {
    AllStatic = AllStatic && E->Static;
    AllRunTime = AllRunTime && E->RunTime;
  }
  return AllStatic && AllRunTime ? "both"
         : AllStatic             ? "static"
         : AllRunTime            ? "run-time"
                                 : "mixed";
}

unsigned Graph::intern(const std::string &Lock) {
  auto [It, Inserted] = Ids.try_emplace(Lock, Names.size());
  if (Inserted)
    Names.push_back(Lock);
  return It->second;
}

void Graph::add(Edge E) {
  const uint64_t Key =
      static_cast<uint64_t>(intern(E.From)) << 32 | intern(E.To);
  auto [It, Inserted] = Edges.try_emplace(Key);
  if (Inserted) {
    It->second = std::move(E);
    return;
  }
  // A translation unit's site is the one to show (a static order keeps the
  // data it was added with), then the smallest; the evidence is both's.
  auto Before = [](const Edge &A, const Edge &B) {
    if (A.Static != B.Static)
      return A.Static;
    return std::tie(A.TranslationUnit, A.At.File, A.At.Line, A.At.Column) <
           std::tie(B.TranslationUnit, B.At.File, B.At.Line, B.At.Column);
  };
  bool Static = It->second.Static || E.Static;
  bool RunTime = It->second.RunTime || E.RunTime;
  if (Before(E, It->second))
    It->second = std::move(E);
  It->second.Static = Static;
  It->second.RunTime = RunTime;
}

void Graph::merge(Graph &&Other) {
  for (auto &Entry : Other.Edges)
    add(std::move(Entry.second));
  Other = Graph();
}

std::vector<Cycle> Graph::cycles() const {
  // Nodes in name order, adjacency in name order.
  std::vector<unsigned> ByName(Names.size());
  for (unsigned I = 0; I < ByName.size(); ++I)
    ByName[I] = I;
  std::sort(ByName.begin(), ByName.end(),
            [&](unsigned A, unsigned B) { return Names[A] < Names[B]; });
  std::vector<unsigned> Rank(Names.size());
  for (unsigned I = 0; I < ByName.size(); ++I)
    Rank[ByName[I]] = I;
  const size_t NodeCount = Names.size();
  std::vector<std::vector<std::pair<unsigned, const Edge *>>> Out(NodeCount);
  for (const auto &[Key, E] : Edges)
    Out[Rank[Key >> 32]].push_back({Rank[Key & 0xffffffffu], &E});
  for (auto &Successors : Out)
    std::sort(Successors.begin(), Successors.end(),
              [](const auto &A, const auto &B) { return A.first < B.first; });
  auto IndexOf = [&](const std::string &Name) {
    return Rank[Ids.lookup(Name)];
  };

  std::vector<unsigned> Component(NodeCount, ~0u);
  std::vector<std::vector<unsigned>> Components;
  std::vector<unsigned> Roots(NodeCount);
  std::iota(Roots.begin(), Roots.end(), 0u);
  forEachStronglyConnectedComponent(
      NodeCount, Roots, [&](unsigned Node) { return Out[Node].size(); },
      [&](unsigned Node, size_t I) -> std::optional<unsigned> {
        return Out[Node][I].first;
      },
      [&](std::vector<unsigned> Members) {
        for (unsigned Member : Members)
          Component[Member] = Components.size();
        Components.push_back(std::move(Members));
      });

  std::vector<Cycle> Result;
  for (const std::vector<unsigned> &Members : Components) {
    if (Members.size() < 2)
      continue;
    unsigned Start = *std::min_element(Members.begin(), Members.end());
    unsigned C = Component[Start];
    // Shortest way back to Start, breadth-first, inside the component.
    std::vector<const Edge *> Parent(NodeCount, nullptr);
    std::vector<bool> Seen(NodeCount, false);
    std::deque<unsigned> Queue{Start};
    const Edge *Closing = nullptr;
    while (!Queue.empty() && !Closing) {
      unsigned Node = Queue.front();
      Queue.pop_front();
      for (const auto &[Succ, E] : Out[Node]) {
        if (Component[Succ] != C)
          continue;
        if (Succ == Start) {
          Closing = E;
          break;
        }
        if (!Seen[Succ]) {
          Seen[Succ] = true;
          Parent[Succ] = E;
          Queue.push_back(Succ);
        }
      }
    }
    if (!Closing)
      continue;
    Cycle Found;
    for (const Edge *E = Closing; E; E = Parent[IndexOf(E->From)]) {
      Found.Edges.push_back(E);
      if (IndexOf(E->From) == Start)
        break;
    }
    std::reverse(Found.Edges.begin(), Found.Edges.end());
    Result.push_back(std::move(Found));
  }
  std::sort(Result.begin(), Result.end(), [](const Cycle &A, const Cycle &B) {
    return A.Edges.front()->From < B.Edges.front()->From;
  });
  return Result;
}

std::string cycleEvidenceText(const Cycle &C);

static std::string cycleMessageText(const Cycle &C) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (C.Edges.size() == 2) {
    OS << "locks '" << C.Edges[0]->From << "' and '" << C.Edges[0]->To
       << "' are acquired in opposite orders; two threads taking them can "
          "deadlock";
    return Text;
  }
  OS << "locks ";
  for (const Edge *E : C.Edges)
    OS << "'" << E->From << "' -> ";
  OS << "'" << C.Edges.front()->From
     << "' are acquired in a cycle; threads taking them can deadlock";
  return Text;
}

std::string cycleMessage(const Cycle &C) {
  return cycleMessageText(C) + cycleEvidenceText(C);
}

std::string cycleEvidenceText(const Cycle &C) {
  llvm::StringRef Kind = evidence(C);
  if (Kind == "static" &&
      llvm::none_of(C.Edges, [](const Edge *E) { return E->RunTime; }))
    return "";
  if (Kind == "both")
    return " (proven statically and seen at run time)";
  if (Kind == "run-time")
    return llvm::all_of(C.Edges, [](const Edge *E) { return !E->Static; })
               ? " (seen at run time)"
               : " (seen at run time; partly proven statically)";
  if (Kind == "static")
    return " (proven statically; partly seen at run time)";
  return " (partly proven statically, partly seen at run time)";
}

void writeSite(llvm::json::OStream &J, llvm::StringRef Key, const Site &S) {
  J.attributeObject(Key, [&] {
    J.attribute("file", S.File);
    J.attribute("line", S.Line);
    J.attribute("column", S.Column);
  });
}

void writeEdgePlaces(llvm::json::OStream &J, const Edge &E) {
  writeSite(J, "at", E.At);
  writeSite(J, "held_at", E.HeldAt);
  J.attributeArray("via", [&] {
    for (const Step &S : E.Via)
      J.object([&] {
        J.attribute("function", S.Function);
        writeSite(J, "at", S.At);
      });
  });
}

} // namespace coroscope::lockgraph
