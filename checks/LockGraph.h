//===--- LockGraph.h - lock-order edges, cycles and facts files -----------===//
//
// The lock-order graph shared by coro-lock-order-inversion (one translation
// unit) and `coroscope link` (the whole program): edges between lock
// classes named by qualified name, and deterministic cycle finding.
// Depends on LLVM Support only.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_LOCKGRAPH_H
#define COROSCOPE_CHECKS_LOCKGRAPH_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace coroscope::lockgraph {

struct Site {
  std::string File;
  unsigned Line = 0;
  unsigned Column = 0;
  auto key() const { return std::tie(File, Line, Column); }
};

/// A call on the way from the function that holds the first lock to the
/// acquisition of the second.
struct Step {
  std::string Function; // the called function
  Site At;              // the call
};

/// "While holding From, Function acquires To at At (through Via)."
struct Edge {
  std::string From;
  std::string To;
  std::string Function;
  Site At;     // where To is acquired, or the first call that leads there
  Site HeldAt; // where From was acquired
  std::vector<Step> Via;
  std::string TranslationUnit;
  /// Where the order is known from: a translation unit's static analysis,
  /// a run of the program (the runtime's COROSCOPE_LOCK_FACTS), or both.
  bool Static = true;
  bool RunTime = false;
};

/// "static", "run-time" or "both".
llvm::StringRef evidence(const Edge &E);

/// "'A' then 'B' in 'post' at x.cpp:12, via 'flush' at x.cpp:30".
std::string describe(const Edge &E);

/// A cycle of lock classes: Edges[i].To == Edges[i + 1].From, and the last
/// edge returns to the first lock.
struct Cycle {
  std::vector<const Edge *> Edges;
};

/// "static", "run-time", "both" (every order both), or "mixed".
llvm::StringRef evidence(const Cycle &C);

class Graph {
public:
  /// Keeps one edge per (From, To): the one at the smallest site, so the
  /// result does not depend on the order edges arrive in.
  void add(Edge E);
  /// Adds every edge of \p Other.
  void merge(Graph &&Other);
  /// One cycle per strongly connected component of two locks or more: the
  /// shortest one through the component's smallest lock name, following
  /// edges in name order. Sorted by that name.
  std::vector<Cycle> cycles() const;
  size_t size() const { return Edges.size(); }
  /// The edges, in no particular order.
  const llvm::DenseMap<uint64_t, Edge> &edges() const { return Edges; }

private:
  unsigned intern(const std::string &Lock);

  // Lock names are interned: a program has few locks and many edges.
  llvm::StringMap<unsigned> Ids;
  std::vector<std::string> Names;
  llvm::DenseMap<uint64_t, Edge> Edges; // (From id << 32 | To id)
};

/// Writes \p S as the object \p Key of the JSON object being written.
void writeSite(llvm::json::OStream &J, llvm::StringRef Key, const Site &S);

/// Writes \p E's "at", "held_at" and "via" attributes into the JSON object
/// being written: the one spelling of sites in facts and reports.
void writeEdgePlaces(llvm::json::OStream &J, const Edge &E);

/// The message of a cycle's warning.
std::string cycleMessage(const Cycle &C);

} // namespace coroscope::lockgraph

#endif // COROSCOPE_CHECKS_LOCKGRAPH_H
