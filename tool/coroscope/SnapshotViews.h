//===- SnapshotViews.h - ps rows, the await tree, the top screen ----------===//
#ifndef COROSCOPE_TOOL_SNAPSHOTVIEWS_H
#define COROSCOPE_TOOL_SNAPSHOTVIEWS_H

#include "RegistryReader.h"

#include <string>
#include <vector>

namespace coroscope::tool {

enum class RowFormat { Table, Json, Csv };

/// Sorts rows by \p Key (id, function, name, state, time, thread); false
/// for an unknown key.
bool sortRows(std::vector<CoroutineRow> &Rows, const std::string &Key);

/// Keeps the rows whose function or name matches the glob \p Pattern.
void filterRows(std::vector<CoroutineRow> &Rows, const std::string &Pattern);

/// \p OneLine: a JSON document on one line.
std::string renderRows(const Snapshot &S, const std::vector<CoroutineRow> &Rows,
                       RowFormat Format, bool OneLine = false);

/// A cycle in the awaited-by graph: each coroutine awaits the next, and the
/// last awaits the first.
using Cycle = std::vector<const CoroutineRow *>;
std::vector<Cycle> findCycles(const Snapshot &S);

/// The await tree, roots first; cycles after it as `cycle: a -> b -> a`.
std::string renderTree(const Snapshot &S, const std::vector<Cycle> &Cycles);

/// What the top screen shows, \p Width columns wide and \p Height rows high
/// (0: no limit); \p Sort orders the functions: count, waiting, running,
/// hangs, name.
std::string renderTop(const Snapshot &S, const std::string &Sort,
                      const std::string &Filter, unsigned Width,
                      unsigned Height);

/// Lines on stderr about a snapshot's gaps (torn shards, malformed records,
/// a truncated list, times of a core).
std::vector<std::string> snapshotWarnings(const Snapshot &S);

} // namespace coroscope::tool

#endif
