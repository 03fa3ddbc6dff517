//===- SnapshotViews.cpp - ps rows, and the text every view shares --------===//

#include "SnapshotViews.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace llvm;

namespace coroscope::tool {
namespace {

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

json::Value textOrNull(const std::string &Text) {
  return Text.empty() ? json::Value(nullptr) : json::Value(Text);
}

/// The lock fields a coroutine's row and a thread's share.
void writeLocks(json::OStream &J, const std::vector<std::string> &Holds,
                const std::string &WaitsForLock, std::uint64_t Holder,
                std::uint32_t HolderThread) {
  J.attributeArray("holds", [&] {
    for (const std::string &Lock : Holds)
      J.value(Lock);
  });
  J.attribute("waits_for_lock", textOrNull(WaitsForLock));
  J.attribute("lock_holder", Holder);
  J.attribute("lock_holder_thread", HolderThread);
}

/// " held by #12", " held by thread 3", or " held by a thread".
std::string holderText(std::uint64_t Coroutine, std::uint32_t Thread) {
  if (Coroutine != 0)
    return " held by #" + std::to_string(Coroutine);
  if (Thread != 0)
    return " held by thread " + std::to_string(Thread);
  return " held by a thread";
}

/// " holding 'A', 'B'", or "".
std::string holdsText(const std::vector<std::string> &Holds) {
  std::string Text;
  for (size_t I = 0; I < Holds.size(); ++I)
    Text += (I == 0 ? " holding '" : ", '") + Holds[I] + "'";
  return Text;
}

/// "waits for 'Table::m_' held by #2; holds 'Store::mu_'", or "".
std::string lockCell(const CoroutineRow &R) {
  std::string Text;
  if (!R.WaitsForLock.empty())
    Text = "waits for '" + R.WaitsForLock + "'" +
           holderText(R.LockHolder, R.LockHolderThread);
  for (size_t I = 0; I < R.Holds.size(); ++I)
    Text += (I != 0         ? ", '"
             : Text.empty() ? "holds '"
                            : "; holds '") +
            R.Holds[I] + "'";
  return Text;
}

} // namespace

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
    Text += " at " + R.Site->where() + " (" + R.Site->waitsForName() + ")";
  else if (R.State == "running")
    Text += " since " + R.Site->where();
  if (R.Hang)
    Text += " [hang]";
  if (R.SlowStep)
    Text += " [slow step]";
  if (!R.WaitsForLock.empty())
    Text += " waiting for lock '" + R.WaitsForLock + "'" +
            holderText(R.LockHolder, R.LockHolderThread);
  Text += holdsText(R.Holds);
  return Text;
}

std::vector<std::string> threadLockLines(const Snapshot &S) {
  std::vector<const ThreadRow *> Threads;
  for (const ThreadRow &T : S.Threads)
    if (T.hasLocks())
      Threads.push_back(&T);
  llvm::sort(Threads, [](const ThreadRow *A, const ThreadRow *B) {
    return A->Index < B->Index;
  });
  std::vector<std::string> Lines;
  for (const ThreadRow *Row : Threads) {
    const ThreadRow &T = *Row;
    std::string Line = "thread " + std::to_string(T.Index) + " (tid " +
                       std::to_string(T.Tid) + "):";
    if (!T.WaitsForLock.empty())
      Line += " blocked " + formatDuration(T.WaitingMs) +
              (T.WaitsAt.empty() ? "" : " at " + T.WaitsAt) +
              " waiting for lock '" + T.WaitsForLock + "'" +
              holderText(T.LockHolder, T.LockHolderThread);
    std::string Holds = holdsText(T.Holds);
    Line += T.WaitsForLock.empty() ? Holds : (Holds.empty() ? "" : "," + Holds);
    Lines.push_back(std::move(Line));
  }
  return Lines;
}

std::string bodyText(const CoroutineRow &R) {
  std::string Text = R.Body->Function;
  if (!R.Name.empty() && R.Name != R.Body->Function)
    Text = "\"" + R.Name + "\" " + Text;
  return Text + " " + R.Body->File + ":" + std::to_string(R.Body->Line);
}

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
    By([](const CoroutineRow &R) { return R.Body->Function; });
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
      return R.Body->Function.find(Pattern) == std::string::npos &&
             R.Name.find(Pattern) == std::string::npos;
    });
    return;
  }
  llvm::erase_if(Rows, [&](const CoroutineRow &R) {
    return !Glob->match(R.Body->Function) && !Glob->match(R.Name);
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
            J.attribute("function", R.Body->Function);
            J.attribute("file", R.Body->File);
            J.attribute("line", R.Body->Line);
            J.attribute("state", R.State);
            writeSite(J, "site", *R.Site);
            J.attribute("waits_for", R.State == "suspended"
                                         ? json::Value(R.Site->waitsForName())
                                         : json::Value(nullptr));
            J.attribute("state_ms", R.StateMs);
            J.attribute("age_ms", R.AgeMs);
            J.attribute("running_ms", R.RunningMs);
            J.attribute("suspensions", R.Suspensions);
            J.attribute("thread", R.Tid);
            J.attribute("awaiter", R.awaiter());
            J.attribute("waits_on", R.WaitsOn);
            J.attribute("creator", R.CreatorId);
            writeSite(J, "creation_site", *R.CreationSite);
            J.attribute("slow_step", R.SlowStep);
            J.attribute("hang", R.Hang);
            writeLocks(J, R.Holds, R.WaitsForLock, R.LockHolder,
                       R.LockHolderThread);
          });
      });
      // Threads that hold or wait for locks outside coroutines.
      J.attributeArray("threads", [&] {
        for (const ThreadRow &T : S.Threads) {
          if (!T.hasLocks())
            continue;
          J.object([&] {
            J.attribute("index", T.Index);
            J.attribute("tid", T.Tid);
            writeLocks(J, T.Holds, T.WaitsForLock, T.LockHolder,
                       T.LockHolderThread);
            J.attribute("waits_at", textOrNull(T.WaitsAt));
            J.attribute("waiting_ms", T.WaitingMs);
          });
        }
      });
    });
    Out << "\n";
    return Text;
  }
  if (Format == RowFormat::Csv) {
    Out << "id,name,function,state,site,state_ms,thread,awaiter,creator,"
           "creation_site\n";
    for (const CoroutineRow &R : Rows)
      Out << R.Id << "," << csvField(R.Name) << ","
          << csvField(R.Body->Function) << "," << R.State << ","
          << csvField(R.Site->where()) << "," << format("%.3f", R.StateMs)
          << "," << R.Tid << "," << R.awaiter() << "," << R.CreatorId << ","
          << csvField(R.CreationSite->where()) << "\n";
    return Text;
  }
  // Two passes over the rows, the first for the columns' widths, so that
  // 100,000 rows make no table of strings.
  constexpr size_t Columns = 10;
  static const char *const Header[Columns] = {
      "ID",      "STATE",    "TIME", "THREAD", "AWAITER",
      "CREATOR", "FUNCTION", "SITE", "NAME",   "LOCKS"};
  auto Cells = [](const CoroutineRow &R, std::string(&Cell)[Columns]) {
    Cell[0] = std::to_string(R.Id);
    Cell[1] = R.State + (R.Hang || R.SlowStep ? "!" : "");
    Cell[2] = formatDuration(R.StateMs);
    Cell[3] = std::to_string(R.Tid);
    Cell[4] = idText(R.awaiter());
    Cell[5] = idText(R.CreatorId);
    Cell[6] = R.Body->Function;
    Cell[7] = R.Site->where();
    Cell[8] = R.Name;
    Cell[9] = lockCell(R);
  };
  size_t Widths[Columns];
  for (size_t I = 0; I < Columns; ++I)
    Widths[I] = std::strlen(Header[I]);
  std::string Cell[Columns];
  for (const CoroutineRow &R : Rows) {
    Cells(R, Cell);
    for (size_t I = 0; I < Columns; ++I)
      Widths[I] = std::max(Widths[I], Cell[I].size());
  }
  std::string Line;
  auto Write = [&](auto &&Text) {
    Line.clear();
    for (size_t I = 0; I < Columns; ++I) {
      StringRef Value = Text(I);
      Line.append(Value.data(), Value.size());
      if (I + 1 < Columns)
        Line.append(Widths[I] - Value.size() + 2, ' ');
    }
    Out << StringRef(Line).rtrim() << "\n";
  };
  Write([&](size_t I) { return StringRef(Header[I]); });
  for (const CoroutineRow &R : Rows) {
    Cells(R, Cell);
    Write([&](size_t I) { return StringRef(Cell[I]); });
  }
  for (const std::string &Line : threadLockLines(S))
    Out << Line << "\n";
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
