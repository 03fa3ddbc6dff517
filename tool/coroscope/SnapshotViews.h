//===- SnapshotViews.h - ps rows, and the text every view shares ----------===//
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

/// "850us", "1.2s", "3m05s", "2h01m".
std::string formatDuration(double Ms);
/// "-" for no coroutine.
std::string idText(std::uint64_t Id);
/// "suspended 3.2s at a.cpp:12:7 (event) [hang]", "running 40ms since ...".
std::string stateText(const CoroutineRow &R);
/// "thread 2 (tid 812): blocked 1.2s at a.cpp:40 waiting for lock 'Store::mu_'
/// held by #5, holding 'Log::mu_'", for each thread that holds or waits for
/// a lock outside coroutines.
std::vector<std::string> threadLockLines(const Snapshot &S);
/// The function and where it is defined, after its name if it has one.
std::string bodyText(const CoroutineRow &R);

/// Lines on stderr about a snapshot's gaps (torn shards, malformed records,
/// a truncated list, times of a core).
std::vector<std::string> snapshotWarnings(const Snapshot &S);

} // namespace coroscope::tool

#endif
