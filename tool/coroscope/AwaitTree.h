//===- AwaitTree.h - the await tree and its cycles ------------------------===//
#ifndef COROSCOPE_TOOL_AWAITTREE_H
#define COROSCOPE_TOOL_AWAITTREE_H

#include "RegistryReader.h"

#include <string>
#include <vector>

namespace coroscope::tool {

/// A cycle of waits: each coroutine awaits the next (a child it awaits, or
/// one it said it waits for, coroscope::waiting_for), and the last the
/// first.
using Cycle = std::vector<const CoroutineRow *>;
std::vector<Cycle> findCycles(const Snapshot &S);

/// The await tree, roots first; cycles after it as `cycle: a -> b -> a`.
std::string renderTree(const Snapshot &S, const std::vector<Cycle> &Cycles);

} // namespace coroscope::tool

#endif
