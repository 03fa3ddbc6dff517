//===- SnapshotViews.cpp - ps rows, the await tree, the top screen --------===//

#include "SnapshotViews.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

using namespace llvm;

namespace coroscope::tool {
namespace {

std::string formatDuration(double Ms) {
  std::string Text;
  raw_string_ostream Out(Text);
  if (Ms < 1)
    Out << format("%.0fus", Ms * 1000);
  else if (Ms < 1000)
    Out << format("%.0fms", Ms);
  else if (Ms < 60'000)
    Out << format("%.1fs", Ms / 1000);
  else if (Ms < 3'600'000)
    Out << format("%.0fm%02.0fs", std::floor(Ms / 60'000),
                  std::floor(std::fmod(Ms, 60'000) / 1000));
  else
    Out << format("%.0fh%02.0fm", std::floor(Ms / 3'600'000),
                  std::floor(std::fmod(Ms, 3'600'000) / 60'000));
  return Text;
}

std::string idText(std::uint64_t Id) { return Id ? std::to_string(Id) : "-"; }

/// "suspended 3.2s at a.cpp:12:7 (event)" or "running 40ms from ...".
std::string stateText(const CoroutineRow &R) {
  std::string Text = R.State + " " + formatDuration(R.StateMs);
  if (R.State == "suspended")
    Text += " at " + R.Site.where() + " (" + R.Site.waitsForName() + ")";
  else if (R.State == "running")
    Text += " since " + R.Site.where();
  if (R.Hang)
    Text += " [hang]";
  if (R.SlowStep)
    Text += " [slow step]";
  return Text;
}

std::string bodyText(const CoroutineRow &R) {
  std::string Text = R.Body.Function;
  if (!R.Name.empty() && R.Name != R.Body.Function)
    Text = "\"" + R.Name + "\" " + Text;
  return Text + " " + R.Body.File + ":" + std::to_string(R.Body.Line);
}

std::string csvField(StringRef Text) {
  if (Text.find_first_of(",\"\n") == StringRef::npos)
    return Text.str();
  std::string Quoted = "\"";
  for (char C : Text) {
    if (C == '"')
      Quoted += '"';
    Quoted += C;
  }
  return Quoted + "\"";
}

void writeSite(json::OStream &J, StringRef Key, const SiteInfo &Site) {
  if (!Site.Known) {
    J.attribute(Key, nullptr);
    return;
  }
  J.attributeObject(Key, [&] {
    J.attribute("function", Site.Function);
    J.attribute("file", Site.File);
    J.attribute("line", Site.Line);
    J.attribute("column", Site.Column);
  });
}

/// Who awaits whom: X -> Y when X is suspended awaiting Y.
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
  }
  return Edges;
}

} // namespace

bool sortRows(std::vector<CoroutineRow> &Rows, const std::string &Key) {
  auto By = [&](auto Projection) {
    llvm::sort(Rows, [&](const CoroutineRow &A, const CoroutineRow &B) {
      auto PA = Projection(A), PB = Projection(B);
      return PA < PB || (!(PB < PA) && A.Id < B.Id);
    });
  };
  if (Key == "id")
    By([](const CoroutineRow &R) { return R.Id; });
  else if (Key == "function")
    By([](const CoroutineRow &R) { return R.Body.Function; });
  else if (Key == "name")
    By([](const CoroutineRow &R) { return R.label(); });
  else if (Key == "state")
    By([](const CoroutineRow &R) { return R.State; });
  else if (Key == "time") // longest in its state first
    By([](const CoroutineRow &R) { return -R.StateMs; });
  else if (Key == "thread")
    By([](const CoroutineRow &R) { return R.Tid; });
  else
    return false;
  return true;
}

void filterRows(std::vector<CoroutineRow> &Rows, const std::string &Pattern) {
  if (Pattern.empty())
    return;
  auto Glob = GlobPattern::create(Pattern);
  if (!Glob) {
    consumeError(Glob.takeError());
    // Not a valid glob: match it as text.
    llvm::erase_if(Rows, [&](const CoroutineRow &R) {
      return R.Body.Function.find(Pattern) == std::string::npos &&
             R.Name.find(Pattern) == std::string::npos;
    });
    return;
  }
  llvm::erase_if(Rows, [&](const CoroutineRow &R) {
    return !Glob->match(R.Body.Function) && !Glob->match(R.Name);
  });
}

std::string renderRows(const Snapshot &S, const std::vector<CoroutineRow> &Rows,
                       RowFormat Format, bool OneLine) {
  std::string Text;
  raw_string_ostream Out(Text);
  if (Format == RowFormat::Json) {
    json::OStream J(Out, OneLine ? 0 : 2);
    J.object([&] {
      J.attribute("target", S.Target);
      J.attribute("complete",
                  S.TornShards == 0 && S.UnreadableShards == 0 && !S.Truncated);
      J.attribute("torn_shards", S.TornShards);
      J.attribute("unreadable_shards", S.UnreadableShards);
      J.attribute("malformed_records", S.MalformedRecords);
      J.attribute("truncated", S.Truncated);
      J.attribute("times_end_at", S.TimesEndAt.empty()
                                      ? json::Value("now")
                                      : json::Value(S.TimesEndAt));
      J.attributeArray("coroutines", [&] {
        for (const CoroutineRow &R : Rows)
          J.object([&] {
            J.attribute("id", R.Id);
            J.attribute("name", R.Name);
            J.attribute("function", R.Body.Function);
            J.attribute("file", R.Body.File);
            J.attribute("line", R.Body.Line);
            J.attribute("state", R.State);
            writeSite(J, "site", R.Site);
            J.attribute("waits_for", R.State == "suspended"
                                         ? json::Value(R.Site.waitsForName())
                                         : json::Value(nullptr));
            J.attribute("state_ms", R.StateMs);
            J.attribute("age_ms", R.AgeMs);
            J.attribute("running_ms", R.RunningMs);
            J.attribute("suspensions", R.Suspensions);
            J.attribute("thread", R.Tid);
            J.attribute("awaiter", R.awaiter());
            J.attribute("waits_on", R.WaitsOn);
            J.attribute("creator", R.CreatorId);
            writeSite(J, "creation_site", R.CreationSite);
            J.attribute("slow_step", R.SlowStep);
            J.attribute("hang", R.Hang);
          });
      });
    });
    Out << "\n";
    return Text;
  }
  if (Format == RowFormat::Csv) {
    Out << "id,name,function,state,site,state_ms,thread,awaiter,creator,"
           "creation_site\n";
    for (const CoroutineRow &R : Rows)
      Out << R.Id << "," << csvField(R.Name) << "," << csvField(R.Body.Function)
          << "," << R.State << "," << csvField(R.Site.where()) << ","
          << format("%.3f", R.StateMs) << "," << R.Tid << "," << R.awaiter()
          << "," << R.CreatorId << "," << csvField(R.CreationSite.where())
          << "\n";
    return Text;
  }
  std::vector<std::vector<std::string>> Cells;
  Cells.push_back({"ID", "STATE", "TIME", "THREAD", "AWAITER", "CREATOR",
                   "FUNCTION", "SITE", "NAME"});
  for (const CoroutineRow &R : Rows)
    Cells.push_back({std::to_string(R.Id),
                     R.State + (R.Hang       ? "!"
                                : R.SlowStep ? "!"
                                             : ""),
                     formatDuration(R.StateMs), std::to_string(R.Tid),
                     idText(R.awaiter()), idText(R.CreatorId), R.Body.Function,
                     R.Site.where(), R.Name});
  std::vector<size_t> Widths(Cells.front().size(), 0);
  for (const auto &Row : Cells)
    for (size_t I = 0; I < Row.size(); ++I)
      Widths[I] = std::max(Widths[I], Row[I].size());
  for (const auto &Row : Cells) {
    std::string Line;
    for (size_t I = 0; I < Row.size(); ++I) {
      Line += Row[I];
      if (I + 1 < Row.size())
        Line += std::string(Widths[I] - Row[I].size() + 2, ' ');
    }
    Out << StringRef(Line).rtrim() << "\n";
  }
  return Text;
}

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
        Out << (R.CreationSite.Known
                    ? "[spawned at " + R.CreationSite.where() + "] "
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
  for (const Cycle &Loop : Cycles) {
    Out << "cycle: ";
    for (const CoroutineRow *R : Loop)
      Out << "#" << R->Id << " " << R->label() << " (" << R->Site.where()
          << ") -> ";
    Out << "#" << Loop.front()->Id << " " << Loop.front()->label() << "\n";
  }
  return Text;
}

std::string renderTop(const Snapshot &S, const std::string &Sort,
                      const std::string &Filter, unsigned Width,
                      unsigned Height) {
  std::vector<CoroutineRow> Rows = S.Coroutines;
  filterRows(Rows, Filter);
  struct PerFunction {
    std::string Function;
    unsigned Count = 0, Running = 0, Suspended = 0, Hangs = 0, Slow = 0;
    double LongestWaitMs = 0;
  };
  std::map<std::string, PerFunction> Functions;
  for (const CoroutineRow &R : Rows) {
    PerFunction &F = Functions[R.Body.Function];
    F.Function = R.Body.Function;
    ++F.Count;
    if (R.State == "running")
      ++F.Running;
    else
      ++F.Suspended;
    F.Hangs += R.Hang;
    F.Slow += R.SlowStep;
    if (R.State == "suspended")
      F.LongestWaitMs = std::max(F.LongestWaitMs, R.StateMs);
  }
  std::vector<PerFunction> Table;
  for (auto &[Name, F] : Functions)
    Table.push_back(F);
  auto By = [&](auto Projection) {
    llvm::sort(Table, [&](const PerFunction &A, const PerFunction &B) {
      auto PA = Projection(A), PB = Projection(B);
      return PA > PB || (!(PB > PA) && A.Function < B.Function);
    });
  };
  if (Sort == "waiting")
    By([](const PerFunction &F) { return F.LongestWaitMs; });
  else if (Sort == "running")
    By([](const PerFunction &F) { return F.Running; });
  else if (Sort == "hangs")
    By([](const PerFunction &F) { return F.Hangs; });
  else if (Sort == "name")
    llvm::sort(Table, [](const PerFunction &A, const PerFunction &B) {
      return A.Function < B.Function;
    });
  else
    By([](const PerFunction &F) { return F.Count; });

  std::vector<std::string> Lines;
  unsigned Hangs = 0, Slow = 0;
  for (const CoroutineRow &R : Rows) {
    Hangs += R.Hang;
    Slow += R.SlowStep;
  }
  Lines.push_back("coroscope top — " + S.Target + ": " +
                  std::to_string(Rows.size()) + " coroutines, " +
                  std::to_string(Slow) +
                  (Slow == 1 ? " slow step now, " : " slow steps now, ") +
                  std::to_string(Hangs) + (Hangs == 1 ? " hang" : " hangs") +
                  (Filter.empty() ? "" : "  [filter: " + Filter + "]") +
                  "  [sort: " + (Sort.empty() ? "count" : Sort) + "]");
  Lines.push_back("");
  Lines.push_back(
      "  COUNT  RUNNING SUSPENDED  HANGS   SLOW     LONGEST  FUNCTION");
  for (const PerFunction &F : Table) {
    std::string Line;
    raw_string_ostream L(Line);
    L << format("%7u %8u %9u %6u %6u %11s  ", F.Count, F.Running, F.Suspended,
                F.Hangs, F.Slow, formatDuration(F.LongestWaitMs).c_str())
      << F.Function;
    Lines.push_back(Line);
  }
  auto Section = [&](StringRef Title, auto Keep, auto Order) {
    std::vector<const CoroutineRow *> Picked;
    for (const CoroutineRow &R : Rows)
      if (Keep(R))
        Picked.push_back(&R);
    if (Picked.empty())
      return;
    llvm::sort(Picked, Order);
    Lines.push_back("");
    Lines.push_back(Title.str());
    for (size_t I = 0; I < Picked.size() && I < 10; ++I)
      Lines.push_back("  #" + std::to_string(Picked[I]->Id) + " " +
                      Picked[I]->label() + "  " + stateText(*Picked[I]));
  };
  auto Longest = [](const CoroutineRow *A, const CoroutineRow *B) {
    return A->StateMs > B->StateMs ||
           (A->StateMs == B->StateMs && A->Id < B->Id);
  };
  Section(
      "slow steps in progress:",
      [](const CoroutineRow &R) { return R.SlowStep; }, Longest);
  Section(
      "hangs:", [](const CoroutineRow &R) { return R.Hang; }, Longest);
  Section(
      "worst waits:",
      [](const CoroutineRow &R) { return R.State == "suspended" && !R.Hang; },
      Longest);
  for (const std::string &Warning : snapshotWarnings(S))
    Lines.push_back(Warning);
  Lines.push_back("");
  Lines.push_back(
      "keys: s sort (count, waiting, running, hangs, name)  / filter  "
      "q quit");

  std::string Text;
  for (size_t I = 0; I < Lines.size(); ++I) {
    if (Height != 0 && I + 1 >= Height && I + 1 < Lines.size()) {
      Text += Lines.back() + "\n"; // the keys stay visible
      break;
    }
    StringRef Line = Lines[I];
    if (Width != 0 && Line.size() > Width)
      Line = Line.take_front(Width);
    Text += Line.str() + "\n";
  }
  return Text;
}

std::vector<std::string> snapshotWarnings(const Snapshot &S) {
  std::vector<std::string> Lines;
  if (!S.Started)
    Lines.push_back(S.Target + ": the coroscope runtime has not tracked a "
                               "coroutine yet");
  if (S.TornShards != 0)
    Lines.push_back(S.Target + ": " + std::to_string(S.TornShards) + " of " +
                    std::to_string(S.ShardCount) +
                    " registry shards changed during every read: each of their "
                    "rows is one coroutine's, but coroutines that started or "
                    "ended meanwhile may be missing (--retries raises the "
                    "reads)");
  if (S.UnreadableShards != 0)
    Lines.push_back(S.Target + ": " + std::to_string(S.UnreadableShards) +
                    " registry shards could not be read");
  if (S.MalformedRecords != 0)
    Lines.push_back(S.Target + ": " + std::to_string(S.MalformedRecords) +
                    " coroutine records failed their checks and are left out");
  if (S.Truncated)
    Lines.push_back(S.Target + ": more coroutines than the limit; the rest "
                               "are left out (--limit)");
  if (!S.TimesEndAt.empty())
    Lines.push_back(S.Target + ": times end at " + S.TimesEndAt);
  return Lines;
}

} // namespace coroscope::tool
