//===--- ReportReader.cpp - runtime reports read back, validated ----------===//

#include "ReportReader.h"

#include "BoundedJson.h"
#include "coroscope/coroscope.hpp"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include <cmath>
#include <limits>
#include <optional>

namespace coroscope::tool {
namespace {

using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

/// Reads fields of one JSON object, remembering the first problem with the
/// path of the field ("failures[0].age_ns"). Once a problem is found every
/// read fails, so callers check once at the end.
class Fields {
public:
  Fields(const Object &O, std::string Path, std::optional<std::string> &Problem)
      : O(O), Path(std::move(Path)), Problem(Problem) {}

  std::string name(llvm::StringRef Key) const {
    return Path.empty() ? Key.str() : Path + "." + Key.str();
  }

  const Value *required(llvm::StringRef Key) {
    const Value *V = O.get(Key);
    if (!V)
      fail(Key, "is missing");
    return Problem ? nullptr : V;
  }

  void count(llvm::StringRef Key, uint64_t &Out) {
    if (const Value *V = required(Key))
      if (!asCount(*V, Out))
        fail(Key, "must be a non-negative integer");
  }
  bool has(llvm::StringRef Key) const { return O.get(Key) != nullptr; }
  /// A count added within the format's version: 0 when absent.
  void optionalCount(llvm::StringRef Key, uint64_t &Out) {
    if (O.get(Key))
      count(Key, Out);
  }
  void count(llvm::StringRef Key, uint32_t &Out) {
    uint64_t Wide = 0;
    count(Key, Wide);
    if (!Problem && Wide > std::numeric_limits<uint32_t>::max())
      fail(Key, "is out of range");
    Out = static_cast<uint32_t>(Wide);
  }
  void number(llvm::StringRef Key, double &Out) {
    if (const Value *V = required(Key)) {
      std::optional<double> N = V->getAsNumber();
      if (!N || !std::isfinite(*N) || *N < 0)
        fail(Key, "must be a non-negative number");
      else
        Out = *N;
    }
  }
  void text(llvm::StringRef Key, std::string &Out) {
    if (const Value *V = required(Key)) {
      if (auto S = V->getAsString())
        Out = S->str();
      else
        fail(Key, "must be a string");
    }
  }
  void flag(llvm::StringRef Key, bool &Out) {
    if (const Value *V = required(Key)) {
      if (auto B = V->getAsBoolean())
        Out = *B;
      else
        fail(Key, "must be true or false");
    }
  }
  void oneOf(llvm::StringRef Key, std::string &Out,
             std::initializer_list<llvm::StringRef> Allowed) {
    text(Key, Out);
    if (!Problem && !llvm::is_contained(Allowed, Out))
      fail(Key, "has the unknown value '" + Out + "'");
  }
  const Object *object(llvm::StringRef Key) {
    if (const Value *V = required(Key)) {
      if (const Object *Inner = V->getAsObject())
        return Inner;
      fail(Key, "must be an object");
    }
    return nullptr;
  }
  const Array *array(llvm::StringRef Key) {
    if (const Value *V = required(Key)) {
      if (const Array *Inner = V->getAsArray())
        return Inner;
      fail(Key, "must be an array");
    }
    return nullptr;
  }
  /// The object at \p Key, read by \p Read with its own path.
  template <typename ReadFn> void nested(llvm::StringRef Key, ReadFn Read) {
    if (const Object *Inner = object(Key)) {
      Fields Sub(*Inner, name(Key), Problem);
      Read(Sub);
    }
  }
  /// Each element of the array at \p Key, an object read by \p Read.
  template <typename ReadFn> void each(llvm::StringRef Key, ReadFn Read) {
    const Array *Items = array(Key);
    if (!Items)
      return;
    for (size_t I = 0; I < Items->size() && !Problem; ++I) {
      std::string ItemPath = name(Key) + "[" + std::to_string(I) + "]";
      const Object *Item = (*Items)[I].getAsObject();
      if (!Item) {
        Problem = "'" + ItemPath + "' must be an object";
        return;
      }
      Fields Sub(*Item, ItemPath, Problem);
      Read(Sub);
    }
  }
  /// The array of strings at \p Key.
  void strings(llvm::StringRef Key, std::vector<std::string> &Out) {
    const Array *Items = array(Key);
    if (!Items)
      return;
    for (size_t I = 0; I < Items->size(); ++I) {
      auto Entry = (*Items)[I].getAsString();
      if (!Entry) {
        fail((Key + "[" + std::to_string(I) + "]").str(), "must be a string");
        return;
      }
      Out.push_back(Entry->str());
    }
  }
  const Object &raw() const { return O; }
  void fail(llvm::StringRef Key, const llvm::Twine &Why) {
    if (!Problem)
      Problem = ("'" + name(Key) + "' " + Why).str();
  }

  static bool asCount(const Value &V, uint64_t &Out) {
    if (auto U = V.getAsUINT64()) {
      Out = *U;
      return true;
    }
    if (auto I = V.getAsInteger(); I && *I >= 0) {
      Out = static_cast<uint64_t>(*I);
      return true;
    }
    return false;
  }

private:
  const Object &O;
  std::string Path;
  std::optional<std::string> &Problem;
};

void readLocation(Fields &F, report::location &L) {
  F.text("function", L.function);
  F.text("file", L.file);
  F.count("line", L.line);
  F.count("column", L.column);
}

void readHistogram(Fields &F, report::histogram &H) {
  F.count("count", H.count);
  F.count("sum_ns", H.sum_ns);
  F.count("min_ns", H.min_ns);
  F.count("max_ns", H.max_ns);
  const Array *Buckets = F.array("buckets");
  if (!Buckets)
    return;
  for (size_t I = 0; I < Buckets->size(); ++I) {
    const Array *Pair = (*Buckets)[I].getAsArray();
    uint64_t Index = 0, N = 0;
    if (!Pair || Pair->size() != 2 || !Fields::asCount((*Pair)[0], Index) ||
        !Fields::asCount((*Pair)[1], N) || Index >= detail::kBucketCount) {
      F.fail("buckets[" + std::to_string(I) + "]",
             "must be [index, count] with an index below " +
                 llvm::Twine(detail::kBucketCount));
      return;
    }
    H.buckets[static_cast<int>(Index)] += N;
  }
}

void readCoroutine(Fields &F, report::coroutine &C) {
  F.count("id", C.id);
  F.count("parent", C.parent);
  if (F.raw().get("creator")) {
    F.count("creator", C.creator);
    F.nested("created_at", [&](Fields &L) { readLocation(L, C.created_at); });
  }
  F.text("name", C.name);
  F.flag("named", C.named);
  F.oneOf(
      "state", C.state,
      {"running", "suspended", "finished", "failed", "cancelled", "abandoned"});
  F.nested("body", [&](Fields &L) { readLocation(L, C.body); });
  F.nested("site", [&](Fields &L) { readLocation(L, C.site); });
  F.count("age_ns", C.age_ns);
  F.count("in_state_ns", C.in_state_ns);
  F.count("running_ns", C.running_ns);
  F.count("suspended_ns", C.suspended_ns);
  F.count("suspensions", C.suspensions);
  F.count("cross_thread_resumptions", C.cross_thread_resumptions);
  F.count("max_step_ns", C.max_step_ns);
  F.nested("max_step_from",
           [&](Fields &L) { readLocation(L, C.max_step_from); });
  F.nested("max_step_to", [&](Fields &L) { readLocation(L, C.max_step_to); });
  if (F.raw().get("exception"))
    F.nested("exception", [&](Fields &E) {
      E.text("type", C.exception_type);
      E.text("what", C.exception_what);
    });
  F.strings("parents", C.parents);
  if (F.raw().get("exception"))
    F.strings("propagated_to", C.propagated_to);
}

void readEdges(Fields &F, llvm::StringRef Key,
               std::vector<report::caller_edge> &Edges) {
  F.each(Key, [&](Fields &E) {
    report::caller_edge &Edge = Edges.emplace_back();
    E.nested("function", [&](Fields &L) { readLocation(L, Edge.function); });
    E.count("count", Edge.count);
  });
}

void readLongWaits(Fields &F, llvm::StringRef Key,
                   std::vector<report::long_waits> &List) {
  F.each(Key, [&](Fields &E) {
    report::long_waits &W = List.emplace_back();
    E.nested("site", [&](Fields &L) { readLocation(L, W.site); });
    E.oneOf("waits_for", W.waits_for, {"event", "child", "schedule", "timer"});
    E.count("count", W.count);
    E.count("resolved", W.resolved);
    E.count("worst_ns", W.worst_ns);
    E.number("first_at_ms", W.first_at_ms);
    E.nested("worst", [&](Fields &C) { readCoroutine(C, W.worst); });
  });
}

void readLockOrder(Fields &E, report::lock_order &O) {
  E.text("first", O.first);
  E.text("second", O.second);
  E.nested("first_at", [&](Fields &L) { readLocation(L, O.first_at); });
  E.nested("second_at", [&](Fields &L) { readLocation(L, O.second_at); });
  E.text("holder", O.holder);
  E.count("thread", O.thread);
}

/// The locks section, added within version 2: absent in older reports.
void readLocks(Fields &F, report::locks_section &L) {
  F.each("classes", [&](Fields &E) {
    report::lock_class_stats &C = L.classes.emplace_back();
    E.text("name", C.name);
    E.oneOf("kind", C.kind, {"mutex", "shared", "async"});
    E.count("acquisitions", C.acquisitions);
    E.count("contended", C.contended);
    E.nested("wait", [&](Fields &H) { readHistogram(H, C.wait); });
    E.nested("hold", [&](Fields &H) { readHistogram(H, C.hold); });
    E.count("longest_hold_ns", C.longest_hold_ns);
    E.nested("longest_from",
             [&](Fields &Loc) { readLocation(Loc, C.longest_from); });
    E.nested("longest_to",
             [&](Fields &Loc) { readLocation(Loc, C.longest_to); });
    E.text("longest_holder", C.longest_holder);
  });
  F.each("held_across_suspension", [&](Fields &E) {
    report::lock_held_across &H = L.held_across_suspension.emplace_back();
    E.text("lock", H.lock);
    E.text("check", H.check);
    E.nested("acquired_at",
             [&](Fields &Loc) { readLocation(Loc, H.acquired_at); });
    E.nested("suspended_at",
             [&](Fields &Loc) { readLocation(Loc, H.suspended_at); });
    E.text("coroutine", H.coroutine);
    E.count("count", H.count);
    E.count("other_thread", H.other_thread);
    E.count("suspended_ns", H.suspended_ns);
    E.count("max_suspended_ns", H.max_suspended_ns);
  });
  F.each("released_on_other_thread", [&](Fields &E) {
    report::lock_foreign_release &R = L.released_on_other_thread.emplace_back();
    E.text("lock", R.lock);
    E.nested("acquired_at",
             [&](Fields &Loc) { readLocation(Loc, R.acquired_at); });
    E.nested("released_at",
             [&](Fields &Loc) { readLocation(Loc, R.released_at); });
    E.count("acquired_thread", R.acquired_thread);
    E.count("released_thread", R.released_thread);
    E.text("holder", R.holder);
    E.count("count", R.count);
  });
  F.each("orders",
         [&](Fields &E) { readLockOrder(E, L.orders.emplace_back()); });
  F.each("cycles", [&](Fields &E) {
    report::lock_cycle &C = L.cycles.emplace_back();
    E.each("orders",
           [&](Fields &O) { readLockOrder(O, C.orders.emplace_back()); });
  });
  F.each("deadlocks", [&](Fields &E) {
    report::deadlock &D = L.deadlocks.emplace_back();
    E.number("at_ms", D.at_ms);
    E.each("members", [&](Fields &M) {
      report::deadlock_member &Member = D.members.emplace_back();
      M.text("who", Member.who);
      M.nested("at", [&](Fields &Loc) { readLocation(Loc, Member.at); });
      M.text("waits_for", Member.waits_for);
      M.text("lock", Member.lock);
    });
  });
  F.count("unmatched_releases", L.unmatched_releases);
}

void readReportFields(Fields &F, report::report &R) {
  if (const Array *Processes = F.array("processes"))
    for (size_t I = 0; I < Processes->size(); ++I) {
      auto Name = (*Processes)[I].getAsString();
      if (!Name) {
        F.fail("processes[" + std::to_string(I) + "]", "must be a string");
        return;
      }
      R.processes.push_back(Name->str());
    }
  F.number("duration_ms", R.duration_ms);
  F.text("clock", R.clock);
  F.flag("at_exit", R.at_exit);
  if (F.raw().get("terminated_by"))
    F.text("terminated_by", R.terminated_by);
  F.nested("config", [&](Fields &C) {
    C.number("slow_ms", R.slow_ms);
    C.number("hang_ms", R.hang_ms);
  });
  F.nested("summary", [&](Fields &S) {
    // The runtime counts these where coroutines start and end: exact.
    // Older reports lack some; their functions' sums stand then.
    R.exact.known = S.has("started") && S.has("finished") && S.has("failed") &&
                    S.has("cancelled") && S.has("abandoned") &&
                    S.has("never_started");
    if (R.exact.known) {
      S.count("started", R.exact.started);
      S.count("finished", R.exact.finished);
      S.count("failed", R.exact.failed);
      S.count("cancelled", R.exact.cancelled);
      S.count("abandoned", R.exact.abandoned);
      S.count("never_started", R.exact.never_started);
    }
    S.count("slow_steps", R.slow_step_total);
    S.count("hangs", R.hang_total);
    S.count("queued", R.queued_total);
    S.count("failures", R.failure_total);
    S.count("running", R.live_running);
    S.count("suspended", R.live_suspended);
    S.nested("last_minute", [&](Fields &M) {
      M.count("started", R.recent.started);
      M.count("finished", R.recent.finished);
      M.count("failed", R.recent.failed);
      M.count("cancelled", R.recent.cancelled);
    });
  });
  F.each("functions", [&](Fields &E) {
    report::function_stats &Fn = R.functions.emplace_back();
    E.nested("body", [&](Fields &L) { readLocation(L, Fn.body); });
    E.count("started", Fn.started);
    E.count("finished", Fn.finished);
    E.count("failed", Fn.failed);
    E.count("cancelled", Fn.cancelled);
    E.count("abandoned", Fn.abandoned);
    E.optionalCount("never_started", Fn.never_started);
    E.count("slow_steps", Fn.slow_steps);
    E.count("suspensions", Fn.suspensions);
    E.count("cross_thread_resumptions", Fn.cross_thread_resumptions);
    E.count("running_ns", Fn.running_ns);
    E.count("suspended_ns", Fn.suspended_ns);
    E.nested("duration", [&](Fields &H) { readHistogram(H, Fn.duration); });
    E.nested("final_step", [&](Fields &H) { readHistogram(H, Fn.final_step); });
    readEdges(E, "awaited_by", Fn.awaited_by);
    readEdges(E, "spawned_by", Fn.spawned_by);
  });
  F.each("sites", [&](Fields &E) {
    report::site_stats &Site = R.sites.emplace_back();
    E.nested("at", [&](Fields &L) { readLocation(L, Site.at); });
    E.oneOf("kind", Site.kind, {"await", "yield"});
    E.oneOf("waits_for", Site.waits_for,
            {"event", "child", "schedule", "timer"});
    E.count("count", Site.count);
    E.optionalCount("ready", Site.ready);
    E.nested("wait", [&](Fields &H) { readHistogram(H, Site.wait); });
    E.nested("step", [&](Fields &H) { readHistogram(H, Site.step); });
  });
  F.each("slow_steps", [&](Fields &E) {
    report::slow_step &Step = R.slow_steps.emplace_back();
    E.count("coroutine", Step.coroutine);
    E.text("name", Step.name);
    E.nested("from", [&](Fields &L) { readLocation(L, Step.from); });
    E.nested("to", [&](Fields &L) { readLocation(L, Step.to); });
    E.count("thread", Step.thread);
    E.count("duration_ns", Step.duration_ns);
    E.number("at_ms", Step.at_ms);
    E.flag("in_progress", Step.in_progress);
  });
  readLongWaits(F, "hangs", R.hangs);
  readLongWaits(F, "queued", R.queued);
  F.each("failures",
         [&](Fields &E) { readCoroutine(E, R.failures.emplace_back()); });
  F.each("cancelled",
         [&](Fields &E) { readCoroutine(E, R.cancelled.emplace_back()); });
  F.each("live", [&](Fields &E) { readCoroutine(E, R.live.emplace_back()); });
  if (F.has("locks"))
    F.nested("locks", [&](Fields &L) { readLocks(L, R.locks); });
  if (F.has("system"))
    F.nested("system", [&](Fields &S) {
      report::system_usage &U = R.system;
      U.known = true;
      S.number("user_cpu_s", U.user_cpu_s);
      S.number("system_cpu_s", U.system_cpu_s);
      S.count("rss_bytes", U.rss_bytes);
      S.count("peak_rss_bytes", U.peak_rss_bytes);
      S.count("threads", U.threads);
      S.count("peak_threads", U.peak_threads);
      S.count("voluntary_context_switches", U.voluntary_switches);
      S.count("involuntary_context_switches", U.involuntary_switches);
      S.count("samples", U.samples);
    });
  if (const Object *Drops = F.object("drops"))
    for (const auto &[What, N] : *Drops) {
      uint64_t Count = 0;
      if (!Fields::asCount(N, Count)) {
        F.fail(("drops." + What.str()), "must be a non-negative integer");
        return;
      }
      R.drops[What.str()] = Count;
    }
}

llvm::Error invalid(const llvm::Twine &Why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Why);
}

} // namespace

llvm::Expected<report::report> readReport(llvm::StringRef Text) {
  llvm::Expected<Value> Parsed = parseBoundedJson(Text);
  if (!Parsed)
    return invalid("invalid JSON: " + llvm::toString(Parsed.takeError()));
  const Object *Root = Parsed->getAsObject();
  if (!Root ||
      Root->getString("schema") != llvm::StringRef(report::kSchemaName))
    return invalid(
        "not a coroscope report (no \"schema\": \"coroscope-report\")");
  std::optional<int64_t> Version = Root->getInteger("version");
  if (Version && *Version > report::kSchemaVersion)
    return invalid("written by a newer coroscope (report version " +
                   llvm::Twine(*Version) + "; this coroscope reads version " +
                   llvm::Twine(report::kSchemaVersion) + ")");
  if (Version != report::kSchemaVersion)
    return invalid("'version' must be " + llvm::Twine(report::kSchemaVersion));
  report::report R;
  std::optional<std::string> Problem;
  Fields F(*Root, "", Problem);
  readReportFields(F, R);
  if (Problem)
    return invalid(*Problem);
  return R;
}

} // namespace coroscope::tool
