//===- TopScreen.cpp - what coroscope top draws ---------------------------===//

#include "TopScreen.h"
#include "SnapshotViews.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace llvm;

namespace coroscope::tool {

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
    PerFunction &F = Functions[R.Body->Function];
    F.Function = R.Body->Function;
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

} // namespace coroscope::tool
