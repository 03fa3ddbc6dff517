//===- WholeProgram.h - the link phase: summaries across TUs --------------===//
//
// Combines the facts files of many translation units into one program and
// resolves calls across them through the functions' summaries:
// - blocking: a coroutine that reaches, through calls into other TUs, a
//   function that blocks the thread;
// - lock order: a lock held across a call whose callee, in any TU and
//   through any chain of calls, acquires another lock.
// Every pass is iterative and memoized, so chains of any length and
// recursion across TUs cost time linear in the program's summaries.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_WHOLEPROGRAM_H
#define COROSCOPE_TOOL_WHOLEPROGRAM_H

#include "FactsFile.h"
#include "LockGraph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace coroscope::link {

using lockgraph::Site;

/// Strings numbered in the order they are first seen, each kept once.
class NumberedStrings {
public:
  unsigned id(llvm::StringRef S) {
    auto [It, Inserted] = Ids.try_emplace(S, Strings.size());
    if (Inserted)
      Strings.push_back(It->first());
    return It->second;
  }
  llvm::StringRef operator[](unsigned Id) const { return Strings[Id]; }
  size_t size() const { return Strings.size(); }

private:
  llvm::StringMap<unsigned> Ids;
  std::vector<llvm::StringRef> Strings; // Ids' keys
};

/// "'Caller' calls 'Callee' here", in a chain.
struct ChainStep {
  std::string Caller;
  std::string Callee;
  Site At;
  std::string TranslationUnit; // where Caller is defined
};

/// A coroutine that blocks its thread through calls into another TU.
struct BlockingFinding {
  std::string Coroutine; // its name
  std::string CoroutineUsr;
  std::string TranslationUnit; // the coroutine's
  std::string Callee;          // called by the coroutine
  std::string CalleeUsr;
  Site At;                      // the call, in the coroutine
  std::vector<ChainStep> Steps; // the calls after the first
  std::string LeafFunction;
  std::string LeafTranslationUnit;
  lockgraph::BlockFact Leaf;

  std::string message() const;
  /// Stable when lines move: who calls whom and what blocks.
  std::string fingerprint() const;
};

/// A function two TUs summarise from different text: one of their facts is
/// stale, or the program breaks the one-definition rule.
struct Mismatch {
  std::string Name;
  std::string FirstUnit;
  std::string SecondUnit;
};

struct Totals {
  size_t Units = 0;
  size_t Functions = 0; // distinct USRs defined
  size_t Summaries = 0; // function summaries read, duplicates included
  size_t Calls = 0;
  size_t OrdersThroughCalls = 0;
};

class Program {
public:
  /// Adds one facts file, read with SummaryForm::Packed. Files must be
  /// added in a fixed order (sorted by path) for the result not to depend
  /// on how they were found.
  void add(lockgraph::Facts &&Facts);

  /// Resolves everything added so far.
  void link();

  const std::vector<BlockingFinding> &blocking() const { return Blocking; }
  const lockgraph::Graph &orders() const { return Orders; }
  const std::vector<Mismatch> &mismatches() const { return Mismatches; }
  const std::set<std::string> &locks() const { return Locks; }
  Totals totals() const;

  /// The functions whose summaries, or the summaries of anything they
  /// call, come from \p Units: what a change to those units can affect.
  std::vector<std::string> affectedBy(const std::set<std::string> &Units) const;

private:
  using PackedSite = lockgraph::PackedSite;
  using LockAt = lockgraph::PackedLockAt; // a lock id, where
  /// Calls, functions and sites hold numbers into the program's tables
  /// (Texts, Units, LockNames): a million summaries share their strings.
  struct Call {
    unsigned Callee;
    PackedSite At;
    bool Awaited = false;
    std::vector<lockgraph::ArgumentFact> Arguments;
    std::vector<LockAt> Held;
  };
  struct Function {
    llvm::StringRef Usr;   // FunctionIds' key
    unsigned Name = 0;     // as coro-blocking-call names it
    unsigned LockName = 0; // as coro-lock-order-inversion names it
    unsigned Hash = 0;
    unsigned Unit = 0; // the first TU that defines it
    bool Defined = false;
    bool Coroutine = false;
    bool HasBlockFacts = false;
    bool HasLockFacts = false;
    std::optional<lockgraph::PackedBlock> Blocks;
    std::vector<Call> BlockCalls;
    std::vector<LockAt> Acquires;
    std::vector<Call> LockCalls;
    /// TUs whose blocking facts summarise it (index into Units). A
    /// std::vector: its move does not throw, so Functions moves on growth.
    std::vector<unsigned> BlockUnits;
  };
  /// How a function reaches an acquisition of a lock: directly (Call < 0,
  /// at the acquisition's index) or through one of its calls.
  struct Reach {
    unsigned Lock;
    unsigned Distance;
    int Call;
    unsigned Acquire;
  };

  unsigned function(llvm::StringRef Usr, llvm::StringRef Name);
  Site site(const PackedSite &S) const;
  lockgraph::BlockFact blockFact(const lockgraph::PackedBlock &B) const;
  bool followsForBlocking(const Call &C) const;
  bool followsForLocks(const Call &C) const;
  void resolveBlocking();
  /// A function's way to a blocking call: when it blocks (always, or only
  /// when one of its bool parameters has a value), how far the blocking
  /// call is, and the call it goes through (-1 for the blocking function
  /// itself) with the condition the callee blocks under there.
  struct Blocks {
    unsigned Distance;
    int Call;
    int CalleeCondition;
  };
  /// Condition -1 is "always"; 2 * parameter + value is "when the parameter
  /// has that value".
  using BlockingMap = llvm::DenseMap<uint64_t, Blocks>;
  static uint64_t key(unsigned Function, int Condition) {
    return static_cast<uint64_t>(Function) << 32 |
           static_cast<uint32_t>(Condition + 1);
  }
  /// The condition under which a call blocks, given that its callee blocks
  /// under \p CalleeCondition; nullopt when it does not.
  static std::optional<int> conditionAtCall(const Call &C, int CalleeCondition);
  /// Every function's ways to a blocking call, argument-sensitive; only
  /// through functions \p Unit defines, and as the check sees them (not
  /// argument-sensitive), when it is set.
  BlockingMap blockingDistances(std::optional<unsigned> Unit) const;
  void resolveLockOrders();
  void computeReach(const std::vector<unsigned> &Roots);
  std::vector<lockgraph::Step> lockChain(unsigned From, unsigned Lock) const;

  NumberedStrings Texts; // names, files, hashes, what blocks and why
  llvm::StringMap<unsigned> FunctionIds;
  std::vector<Function> Functions;
  NumberedStrings LockNames;
  NumberedStrings Units;
  std::set<unsigned> MismatchedFunctions;
  std::vector<lockgraph::Edge> UnitEdges;
  /// The functions each TU's blocking facts summarise, by TU.
  std::vector<std::vector<unsigned>> UnitFunctions;
  size_t Summaries = 0;

  std::vector<BlockingFinding> Blocking;
  lockgraph::Graph Orders;
  std::vector<Mismatch> Mismatches;
  std::set<std::string> Locks;
  std::vector<std::vector<Reach>> Reaches;
  size_t DerivedOrders = 0;
};

} // namespace coroscope::link

#endif
