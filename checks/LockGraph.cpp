//===--- LockGraph.cpp - lock-order edges, cycles and facts files ---------===//

#include "LockGraph.h"
#include "BoundedJson.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <deque>
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

  // Tarjan's strongly connected components, iteratively.
  const unsigned None = ~0u;
  std::vector<unsigned> Order(NodeCount, None), Low(NodeCount, 0),
      Component(NodeCount, None);
  std::vector<bool> OnStack(NodeCount, false);
  std::vector<unsigned> Stack;
  std::vector<std::vector<unsigned>> Components;
  unsigned Counter = 0;
  for (unsigned Root = 0; Root < NodeCount; ++Root) {
    if (Order[Root] != None)
      continue;
    std::vector<std::pair<unsigned, size_t>> Frames{{Root, 0}};
    Order[Root] = Low[Root] = Counter++;
    Stack.push_back(Root);
    OnStack[Root] = true;
    while (!Frames.empty()) {
      auto &[Node, Next] = Frames.back();
      if (Next < Out[Node].size()) {
        unsigned Succ = Out[Node][Next++].first;
        if (Order[Succ] == None) {
          Order[Succ] = Low[Succ] = Counter++;
          Stack.push_back(Succ);
          OnStack[Succ] = true;
          Frames.push_back({Succ, 0});
        } else if (OnStack[Succ]) {
          Low[Node] = std::min(Low[Node], Order[Succ]);
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
          Component[Member] = Components.size();
          Members.push_back(Member);
        } while (Member != Node);
        Components.push_back(std::move(Members));
      }
      unsigned Done = Node;
      Frames.pop_back();
      if (!Frames.empty())
        Low[Frames.back().first] =
            std::min(Low[Frames.back().first], Low[Done]);
    }
  }

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

namespace {
void writeSite(llvm::json::OStream &J, llvm::StringRef Key, const Site &S) {
  J.attributeObject(Key, [&] {
    J.attribute("file", S.File);
    J.attribute("line", S.Line);
    J.attribute("column", S.Column);
  });
}

llvm::Error malformed(const llvm::Twine &What) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "malformed facts file: " + What);
}

llvm::Expected<Site> readSite(const llvm::json::Object *O,
                              llvm::StringRef Key) {
  const llvm::json::Object *S = O ? O->getObject(Key) : nullptr;
  if (!S)
    return malformed("an edge has no '" + Key + "' site");
  auto File = S->getString("file");
  auto Line = S->getInteger("line");
  auto Column = S->getInteger("column");
  if (!File || !Line || !Column || *Line < 0 || *Column < 0)
    return malformed("site '" + Key + "' needs a file, a line and a column");
  return Site{File->str(), static_cast<unsigned>(*Line),
              static_cast<unsigned>(*Column)};
}
} // namespace

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

std::string writeFacts(const Facts &F) {
  std::vector<std::string> Locks = F.Locks;
  std::sort(Locks.begin(), Locks.end());
  Locks.erase(std::unique(Locks.begin(), Locks.end()), Locks.end());
  std::vector<const Edge *> Edges;
  for (const Edge &E : F.Edges)
    Edges.push_back(&E);
  std::sort(Edges.begin(), Edges.end(), [](const Edge *A, const Edge *B) {
    return std::tie(A->From, A->To, A->At.File, A->At.Line, A->At.Column) <
           std::tie(B->From, B->To, B->At.File, B->At.Line, B->At.Column);
  });
  // One lock and one edge per line: diffable, and small enough that a
  // program's thousands of files merge fast.
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  auto Compact = [&](auto &&Body) {
    llvm::json::OStream J(OS, 0);
    Body(J);
  };
  OS << "{\"format\": \"coroscope-lockfacts\", \"version\": 1,\n";
  if (F.RunTime)
    OS << " \"source\": \"run-time\",\n";
  OS << " \"translation_unit\": ";
  Compact([&](llvm::json::OStream &J) { J.value(F.TranslationUnit); });
  OS << ",\n \"locks\": [";
  for (size_t I = 0; I < Locks.size(); ++I) {
    OS << (I ? ",\n  " : "\n  ");
    Compact([&](llvm::json::OStream &J) { J.value(Locks[I]); });
  }
  OS << (Locks.empty() ? "" : "\n ") << "],\n \"edges\": [";
  for (size_t I = 0; I < Edges.size(); ++I) {
    const Edge *E = Edges[I];
    OS << (I ? ",\n  " : "\n  ");
    Compact([&](llvm::json::OStream &J) {
      J.object([&] {
        J.attribute("from", E->From);
        J.attribute("to", E->To);
        J.attribute("function", E->Function);
        writeEdgePlaces(J, *E);
      });
    });
  }
  OS << (Edges.empty() ? "" : "\n ") << "]}\n";
  return Text;
}

llvm::Expected<Facts> readFacts(llvm::StringRef Text) {
  llvm::Expected<llvm::json::Value> Parsed = parseBoundedJson(Text);
  if (!Parsed)
    return malformed(llvm::toString(Parsed.takeError()));
  const llvm::json::Object *Root = Parsed->getAsObject();
  if (!Root || Root->getString("format") != "coroscope-lockfacts")
    return malformed("not a coroscope-lockfacts document");
  if (Root->getInteger("version") != 1)
    return malformed("unsupported version (this coroscope reads version 1)");
  Facts F;
  if (auto Source = Root->getString("source")) {
    if (*Source != "run-time" && *Source != "static")
      return malformed("'source' must be \"static\" or \"run-time\"");
    F.RunTime = *Source == "run-time";
  }
  if (auto TU = Root->getString("translation_unit"))
    F.TranslationUnit = TU->str();
  else
    return malformed("no 'translation_unit'");
  const llvm::json::Array *Locks = Root->getArray("locks");
  const llvm::json::Array *Edges = Root->getArray("edges");
  if (!Locks || !Edges)
    return malformed("no 'locks' or 'edges' array");
  for (const llvm::json::Value &L : *Locks) {
    auto Name = L.getAsString();
    if (!Name)
      return malformed("a lock is not a string");
    F.Locks.push_back(Name->str());
  }
  for (const llvm::json::Value &V : *Edges) {
    const llvm::json::Object *O = V.getAsObject();
    auto From = O ? O->getString("from") : std::nullopt;
    auto To = O ? O->getString("to") : std::nullopt;
    auto Function = O ? O->getString("function") : std::nullopt;
    if (!From || !To || !Function)
      return malformed("an edge needs 'from', 'to' and 'function'");
    Edge E;
    E.From = From->str();
    E.To = To->str();
    E.Function = Function->str();
    E.TranslationUnit = F.TranslationUnit;
    E.Static = !F.RunTime;
    E.RunTime = F.RunTime;
    auto At = readSite(O, "at");
    if (!At)
      return At.takeError();
    auto HeldAt = readSite(O, "held_at");
    if (!HeldAt)
      return HeldAt.takeError();
    E.At = *At;
    E.HeldAt = *HeldAt;
    if (const llvm::json::Array *Via = O->getArray("via"))
      for (const llvm::json::Value &S : *Via) {
        const llvm::json::Object *SO = S.getAsObject();
        auto Callee = SO ? SO->getString("function") : std::nullopt;
        if (!Callee)
          return malformed("a 'via' step needs a 'function'");
        auto StepAt = readSite(SO, "at");
        if (!StepAt)
          return StepAt.takeError();
        E.Via.push_back({Callee->str(), *StepAt});
      }
    F.Edges.push_back(std::move(E));
  }
  return F;
}

} // namespace coroscope::lockgraph
