//===- TopScreen.h - what coroscope top draws -----------------------------===//
#ifndef COROSCOPE_TOOL_TOPSCREEN_H
#define COROSCOPE_TOOL_TOPSCREEN_H

#include "RegistryReader.h"

#include <string>

namespace coroscope::tool {

/// One screen, \p Width columns wide and \p Height rows high (0: no
/// limit): the coroutines per function with counts by state, the slow
/// steps in progress, the hangs and the worst waits. \p Sort orders the
/// functions: count, waiting, running, hangs, name.
std::string renderTop(const Snapshot &S, const std::string &Sort,
                      const std::string &Filter, unsigned Width,
                      unsigned Height);

} // namespace coroscope::tool

#endif
