//===- ReportHtml.cpp - a report as one self-contained HTML page ----------===//
#include "Commands.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace coroscope::tool {
namespace {

std::string escape(const std::string &Text) {
  std::string Out;
  for (char C : Text) {
    switch (C) {
    case '&':
      Out += "&amp;";
      break;
    case '<':
      Out += "&lt;";
      break;
    case '>':
      Out += "&gt;";
      break;
    case '"':
      Out += "&quot;";
      break;
    default:
      Out += C;
    }
  }
  return Out;
}

std::string ms(double Ns) {
  char Buffer[32];
  std::snprintf(Buffer, sizeof Buffer, "%.3f ms", Ns / 1e6);
  return Buffer;
}

struct Bar {
  std::string Row, Label, Class;
  double StartMs, LengthMs;
};

// One lane per kind of event, bars placed on the run's time axis.
std::string timeline(const report::report &R) {
  std::vector<Bar> Bars;
  for (const auto &S : R.slow_steps)
    Bars.push_back(
        {"slow steps",
         S.from.function + " " + S.from.where() + " -> " + S.to.where(), "slow",
         S.at_ms, double(S.duration_ns) / 1e6});
  for (const auto &H : R.hangs)
    Bars.push_back({"hangs",
                    H.worst.body.function + " at " + H.site.where() + ", " +
                        std::to_string(H.count) + " waits, the worst",
                    "hang", H.first_at_ms, double(H.worst_ns) / 1e6});
  for (const auto &C : R.live)
    Bars.push_back({"live at end",
                    C.body.function + " " + C.state + " at " + C.site.where(),
                    C.state == "suspended" ? "leak" : "live",
                    R.duration_ms - double(C.age_ns) / 1e6,
                    double(C.age_ns) / 1e6});
  const double Width = 960, Left = 110, LaneHeight = 26;
  std::vector<std::string> Lanes = {"slow steps", "hangs", "live at end"};
  double Span = std::max(R.duration_ms, 1e-3);
  for (const Bar &B : Bars)
    Span = std::max(Span, B.StartMs + B.LengthMs);
  std::ostringstream Svg;
  Svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
      << Width + Left + 10 << "\" height=\""
      << LaneHeight * double(Lanes.size()) + 30 << "\" class=\"timeline\">\n";
  for (std::size_t L = 0; L < Lanes.size(); ++L)
    Svg << "<text x=\"4\" y=\"" << LaneHeight * double(L) + 17 << "\">"
        << Lanes[L] << "</text>\n";
  for (const Bar &B : Bars) {
    auto Lane = std::find(Lanes.begin(), Lanes.end(), B.Row) - Lanes.begin();
    double X = Left + std::max(0.0, B.StartMs) / Span * Width;
    double W = std::max(1.0, B.LengthMs / Span * Width);
    Svg << "<rect class=\"" << B.Class << "\" x=\"" << X << "\" y=\""
        << LaneHeight * double(Lane) + 4 << "\" width=\"" << W << "\" height=\""
        << LaneHeight - 8 << "\"><title>" << escape(B.Label) << " ("
        << B.LengthMs << " ms)</title></rect>\n";
  }
  double AxisY = LaneHeight * double(Lanes.size()) + 14;
  Svg << "<line x1=\"" << Left << "\" y1=\"" << AxisY - 10 << "\" x2=\""
      << Left + Width << "\" y2=\"" << AxisY - 10 << "\" stroke=\"#888\"/>\n";
  for (int Tick = 0; Tick <= 4; ++Tick)
    Svg << "<text x=\"" << Left + Width * Tick / 4 - 10 << "\" y=\""
        << AxisY + 8 << "\">" << Span * Tick / 4 << " ms</text>\n";
  Svg << "</svg>\n";
  return Svg.str();
}

void row(std::ostringstream &Out, std::initializer_list<std::string> Cells) {
  Out << "<tr>";
  for (const std::string &C : Cells)
    Out << "<td>" << escape(C) << "</td>";
  Out << "</tr>\n";
}

void header(std::ostringstream &Out,
            std::initializer_list<const char *> Cells) {
  Out << "<table><tr>";
  for (const char *C : Cells)
    Out << "<th>" << C << "</th>";
  Out << "</tr>\n";
}

/// Who holds what, who waits for it, and what went wrong with locks.
void renderLocks(std::ostringstream &Out, const report::locks_section &L) {
  Out << "<h2>Locks</h2>\n";
  if (L.empty()) {
    Out << "<p>No lock was marked (docs/runtime/locks.md).</p>\n";
    return;
  }
  if (!L.deadlocks.empty()) {
    Out << "<h3>Deadlocks</h3>\n";
    header(Out, {"member", "waits at", "waits for", "lock"});
    for (const report::deadlock &D : L.deadlocks)
      for (const report::deadlock_member &M : D.members)
        row(Out, {M.who, M.at.where(), M.waits_for, M.lock});
    Out << "</table>\n";
  }
  if (!L.cycles.empty()) {
    Out << "<h3>Lock-order cycles [coro-lock-order-inversion]</h3>\n";
    header(Out, {"cycle", "first", "then", "first taken at", "then taken at",
                 "by", "thread"});
    for (size_t I = 0; I < L.cycles.size(); ++I)
      for (const report::lock_order &O : L.cycles[I].orders)
        row(Out, {std::to_string(I + 1), O.first, O.second, O.first_at.where(),
                  O.second_at.where(), O.holder, std::to_string(O.thread)});
    Out << "</table>\n";
  }
  if (!L.held_across_suspension.empty()) {
    Out << "<h3>Held across a suspension [coro-lock-across-suspend]</h3>\n";
    header(Out, {"lock", "acquired at", "suspended at", "coroutine", "times",
                 "resumed on another thread", "suspended for", "longest"});
    for (const report::lock_held_across &H : L.held_across_suspension)
      row(Out,
          {H.lock, H.acquired_at.where(), H.suspended_at.where(), H.coroutine,
           std::to_string(H.count), std::to_string(H.other_thread),
           ms(double(H.suspended_ns)), ms(double(H.max_suspended_ns))});
    Out << "</table>\n";
  }
  if (!L.released_on_other_thread.empty()) {
    Out << "<h3>Released on another thread (undefined behaviour)</h3>\n";
    header(Out, {"lock", "acquired at", "released at", "acquired on",
                 "released on", "holder", "times"});
    for (const report::lock_foreign_release &F : L.released_on_other_thread)
      row(Out, {F.lock, F.acquired_at.where(), F.released_at.where(),
                "thread " + std::to_string(F.acquired_thread),
                "thread " + std::to_string(F.released_thread), F.holder,
                std::to_string(F.count)});
    Out << "</table>\n";
  }
  Out << "<h3>Lock classes</h3>\n";
  header(Out, {"lock", "kind", "acquired", "contended", "p50 wait", "p99 wait",
               "p50 hold", "p99 hold", "longest hold", "longest held from",
               "to", "by"});
  for (const report::lock_class_stats &C : L.classes)
    row(Out,
        {C.name, C.kind, std::to_string(C.acquisitions),
         std::to_string(C.contended), report::percentile_text(C.wait, 0.5),
         report::percentile_text(C.wait, 0.99),
         report::percentile_text(C.hold, 0.5),
         report::percentile_text(C.hold, 0.99), ms(double(C.longest_hold_ns)),
         C.longest_from.where(), C.longest_to.where(), C.longest_holder});
  Out << "</table>\n";
}

} // namespace

std::string renderHtml(const report::report &R) {
  report::summary S = report::summarize(R);
  std::ostringstream Out;
  std::ostringstream Summary;
  report::render_summary(R, Summary);
  Out << "<!DOCTYPE html>\n<html><head><meta "
         "charset=\"utf-8\"><title>coroscope report</title>\n"
         "<style>body{font:14px "
         "sans-serif;margin:2em}table{border-collapse:collapse;"
         "margin:1em 0}td,th{border:1px solid #ccc;padding:2px "
         "8px;text-align:left}"
         "th{background:#eee}.slow{fill:#e69f00}.hang{fill:#d55e00}.leak{fill:#"
         "cc79a7}"
         ".live{fill:#56b4e9}pre{background:#f6f6f6;padding:1em}</style></"
         "head><body>\n";
  Out << "<h1>coroscope report</h1>\n<p>";
  for (const std::string &P : R.processes)
    Out << escape(P) << "<br>";
  Out << "</p>\n<h2>Summary</h2>\n";
  header(Out, {"started", "finished", "failed", "failures", "cancelled",
               "abandoned", "never started", "live", "success", "errors",
               "slow steps", "hangs", "queued"});
  row(Out, {std::to_string(S.started), std::to_string(S.finished),
            std::to_string(S.failed), std::to_string(R.failure_total),
            std::to_string(S.cancelled), std::to_string(S.abandoned),
            std::to_string(S.never_started), std::to_string(S.live),
            std::to_string(S.success_rate * 100) + "%",
            std::to_string(S.error_rate * 100) + "%",
            std::to_string(R.slow_step_total), std::to_string(R.hang_total),
            std::to_string(R.queued_total)});
  Out << "</table>\n<pre>" << escape(Summary.str()) << "</pre>\n";
  if (R.system.known) {
    const report::system_usage &U = R.system;
    auto Fixed = [](double V, const char *Unit) {
      char Buffer[48];
      std::snprintf(Buffer, sizeof Buffer, "%.2f %s", V, Unit);
      return std::string(Buffer);
    };
    Out << "<h2>System resources</h2>\n";
    header(Out, {"user CPU", "system CPU", "resident", "peak resident",
                 "threads", "peak threads", "voluntary switches",
                 "involuntary switches", "samples"});
    row(Out,
        {Fixed(U.user_cpu_s, "s"), Fixed(U.system_cpu_s, "s"),
         Fixed(double(U.rss_bytes) / 1e6, "MB"),
         Fixed(double(U.peak_rss_bytes) / 1e6, "MB"), std::to_string(U.threads),
         std::to_string(U.peak_threads), std::to_string(U.voluntary_switches),
         std::to_string(U.involuntary_switches), std::to_string(U.samples)});
    Out << "</table>\n";
  }
  Out << "<h2>Timeline</h2>\n" << timeline(R);

  Out << "<h2>Functions</h2>\n";
  header(Out,
         {"function", "defined at", "started", "finished", "failed",
          "cancelled", "abandoned", "never started", "slow steps", "p50 life",
          "p99 life", "running", "suspended", "awaited by", "spawned by"});
  auto Callers = [](const std::vector<report::caller_edge> &Edges) {
    std::string Text;
    for (const report::caller_edge &E : Edges)
      Text += (Text.empty() ? "" : ", ") + E.function.function + " (" +
              std::to_string(E.count) + ")";
    return Text;
  };
  for (const auto &F : R.functions)
    row(Out, {F.body.function, F.body.where(), std::to_string(F.started),
              std::to_string(F.finished), std::to_string(F.failed),
              std::to_string(F.cancelled), std::to_string(F.abandoned),
              std::to_string(F.never_started), std::to_string(F.slow_steps),
              report::percentile_text(F.duration, 0.5),
              report::percentile_text(F.duration, 0.99),
              ms(double(F.running_ns)), ms(double(F.suspended_ns)),
              Callers(F.awaited_by), Callers(F.spawned_by)});
  Out << "</table>\n<h2>Await sites</h2>\n";
  header(Out,
         {"site", "function", "kind", "waits for", "count", "did not suspend",
          "p50 wait", "p90 wait", "p99 wait", "max wait", "p99 step before"});
  for (const auto &Site : R.sites)
    row(Out,
        {Site.at.where(), Site.at.function, Site.kind, Site.waits_for,
         std::to_string(Site.count), std::to_string(Site.ready),
         report::percentile_text(Site.wait, 0.5),
         report::percentile_text(Site.wait, 0.9),
         report::percentile_text(Site.wait, 0.99), ms(double(Site.wait.max_ns)),
         report::percentile_text(Site.step, 0.99)});
  Out << "</table>\n<h2>Slow steps</h2>\n";
  header(Out, {"function", "from", "to", "duration", "thread"});
  for (const auto &Step : R.slow_steps)
    row(Out, {Step.from.function, Step.from.where(), Step.to.where(),
              ms(double(Step.duration_ns)), std::to_string(Step.thread)});
  Out << "</table>\n<h2>Failures</h2>\n";
  auto Joined = [](const std::vector<std::string> &List) {
    std::string Text;
    for (const std::string &P : List)
      Text += (Text.empty() ? "" : " <- ") + P;
    return Text;
  };
  header(Out, {"function", "exception", "message", "last site", "propagated to",
               "awaited by"});
  for (const auto &C : R.failures)
    row(Out, {C.body.function, C.exception_type, C.exception_what,
              C.site.where(), Joined(C.propagated_to), Joined(C.parents)});
  for (auto [Title, List] :
       {std::pair{"Hangs", &R.hangs}, std::pair{"Queueing", &R.queued}}) {
    Out << "</table>\n<h2>" << Title << "</h2>\n";
    header(Out, {"site", "waits", "resumed", "worst", "worst waiter",
                 "await chain"});
    for (const auto &H : *List)
      row(Out, {H.site.where(), std::to_string(H.count),
                std::to_string(H.resolved), ms(double(H.worst_ns)),
                H.worst.body.function, Joined(H.worst.parents)});
  }
  Out << "</table>\n";
  renderLocks(Out, R.locks);
  Out << "<h2>Live coroutines"
      << (R.at_exit ? " at exit (suspended ones leaked)" : "") << "</h2>\n";
  header(Out, {"id", "function", "name", "state", "site", "in state", "age"});
  for (const auto &C : R.live)
    row(Out, {std::to_string(C.id), C.body.function, C.name, C.state,
              C.site.where(), ms(double(C.in_state_ns)), ms(double(C.age_ns))});
  Out << "</table>\n<h2>Dropped</h2>\n";
  header(Out, {"buffer", "dropped"});
  for (const auto &[What, N] : R.drops)
    row(Out, {What, std::to_string(N)});
  Out << "</table>\n</body></html>\n";
  return Out.str();
}

} // namespace coroscope::tool
