//===- WholeProgram.cpp - the link phase: summaries across TUs ------------===//
#include "WholeProgram.h"
#include "StronglyConnected.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <deque>
#include <map>

namespace coroscope::link {

std::string BlockingFinding::message() const {
  return "'" + Callee + "' blocks the thread while coroutine '" + Coroutine +
         "' runs; it reaches " + Leaf.Subject + " (" + Leaf.Reason + ") in " +
         LeafTranslationUnit;
}

std::string BlockingFinding::fingerprint() const {
  return lockgraph::contentHash(CoroutineUsr + "\n" + CalleeUsr + "\n" +
                                LeafFunction + "\n" + Leaf.Subject);
}

Site Program::site(const PackedSite &S) const {
  return Site{Texts[S.File].str(), S.Line, S.Column};
}

lockgraph::BlockFact Program::blockFact(const lockgraph::PackedBlock &B) const {
  return {Texts[B.Subject].str(), Texts[B.Reason].str(), site(B.At),
          B.WhenParameter, B.WhenValue};
}

unsigned Program::function(llvm::StringRef Usr, llvm::StringRef Name) {
  auto [It, Inserted] = FunctionIds.try_emplace(Usr, Functions.size());
  if (Inserted) {
    Function &Fn = Functions.emplace_back();
    Fn.Usr = It->first();
    Fn.Name = Fn.LockName = Texts.id(Name);
  }
  return It->second;
}

void Program::add(lockgraph::Facts &&F) {
  const unsigned UnitIndex = Units.id(F.TranslationUnit);
  Locks.insert(F.Locks.begin(), F.Locks.end());
  for (lockgraph::Edge &E : F.Edges)
    UnitEdges.push_back(std::move(E));
  const bool BlockFacts = F.Check == "coro-blocking-call";
  if (!BlockFacts && F.Check != "coro-lock-order-inversion")
    return; // another check's summaries: nothing this link knows of
  const lockgraph::PackedSummaries &P = F.Packed;
  // The file's string numbers, as numbers into the program's tables, each
  // looked up once per file.
  constexpr unsigned None = ~0u;
  std::vector<unsigned> TextOf(P.Strings.size(), None);
  std::vector<unsigned> LockOf(P.Strings.size(), None);
  std::vector<unsigned> FunctionOf(P.Strings.size(), None);
  auto GlobalFunction = [&](uint32_t Usr, uint32_t Name) {
    if (FunctionOf[Usr] == None)
      FunctionOf[Usr] = function(P.Strings[Usr], P.Strings[Name]);
    return FunctionOf[Usr];
  };
  auto Global = [&](uint32_t I) {
    if (TextOf[I] == None)
      TextOf[I] = Texts.id(P.Strings[I]);
    return TextOf[I];
  };
  auto GlobalSite = [&](const PackedSite &S) {
    return PackedSite{Global(S.File), S.Line, S.Column};
  };
  auto GlobalLock = [&](const LockAt &L) {
    if (LockOf[L.Lock] == None)
      LockOf[L.Lock] = LockNames.id(P.Strings[L.Lock]);
    return LockAt{LockOf[L.Lock], GlobalSite(L.At)};
  };
  auto Calls = [&](const std::vector<lockgraph::PackedCall> &From) {
    std::vector<Call> Result(From.size());
    for (size_t I = 0; I < From.size(); ++I) {
      const lockgraph::PackedCall &C = From[I];
      Call &To = Result[I];
      To.Callee = GlobalFunction(C.Usr, C.Name);
      To.At = GlobalSite(C.At);
      To.Awaited = C.Awaited;
      To.Arguments = C.Arguments;
      To.Held.reserve(C.Held.size());
      for (const LockAt &H : C.Held)
        To.Held.push_back(GlobalLock(H));
    }
    return Result;
  };
  for (const lockgraph::PackedFunction &Fact : P.Functions) {
    ++Summaries;
    const unsigned Id = GlobalFunction(Fact.Usr, Fact.Name);
    const unsigned Hash = Texts.id(Fact.Hash);
    Function *Fn = &Functions[Id];
    if (!Fn->Defined) {
      Fn->Defined = true;
      Fn->Hash = Hash;
      Fn->Unit = UnitIndex;
    } else if (Fn->Hash != Hash) {
      // The first summary (in path order) stands; the other is reported.
      if (MismatchedFunctions.insert(Id).second)
        Mismatches.push_back(
            {Texts[Fn->Name].str(), Units[Fn->Unit].str(), F.TranslationUnit});
      continue;
    }
    Fn->Coroutine |= Fact.Coroutine;
    if (BlockFacts) {
      if (!llvm::is_contained(Fn->BlockUnits, UnitIndex))
        Fn->BlockUnits.push_back(UnitIndex);
      if (Fn->HasBlockFacts)
        continue; // the same text: the same summary, deduplicated
      std::vector<Call> Resolved = Calls(Fact.Calls);
      std::optional<lockgraph::PackedBlock> Blocks = Fact.Blocks;
      if (Blocks) {
        Blocks->Subject = Global(Blocks->Subject);
        Blocks->Reason = Global(Blocks->Reason);
        Blocks->At = GlobalSite(Blocks->At);
      }
      Fn = &Functions[Id]; // Calls() may have grown Functions
      Fn->HasBlockFacts = true;
      Fn->Name = Global(Fact.Name);
      Fn->Blocks = Blocks;
      Fn->BlockCalls = std::move(Resolved);
    } else {
      if (Fn->HasLockFacts)
        continue;
      std::vector<Call> Resolved = Calls(Fact.Calls);
      std::vector<LockAt> Acquires;
      Acquires.reserve(Fact.Acquires.size());
      for (const LockAt &A : Fact.Acquires)
        Acquires.push_back(GlobalLock(A));
      Fn = &Functions[Id];
      Fn->HasLockFacts = true;
      Fn->LockName = Global(Fact.Name);
      Fn->Acquires = std::move(Acquires);
      Fn->LockCalls = std::move(Resolved);
    }
  }
}

bool Program::followsForBlocking(const Call &C) const {
  // Calling a coroutine only creates it; its body is its own finding.
  return !Functions[C.Callee].Coroutine;
}

bool Program::followsForLocks(const Call &C) const {
  // An awaited coroutine runs its body here, holding what is held here.
  return !Functions[C.Callee].Coroutine || C.Awaited;
}

std::optional<int> Program::conditionAtCall(const Call &C,
                                            int CalleeCondition) {
  if (CalleeCondition < 0)
    return -1;
  const unsigned Parameter = CalleeCondition / 2;
  const bool Value = CalleeCondition % 2;
  for (const lockgraph::ArgumentFact &A : C.Arguments) {
    if (A.Index != Parameter)
      continue;
    if (A.Value)
      return *A.Value == Value ? std::optional<int>(-1) : std::nullopt;
    if (A.Parameter)
      return static_cast<int>(*A.Parameter * 2 + Value);
  }
  return -1; // nothing known of the argument: it may block
}

Program::BlockingMap
Program::blockingDistances(std::optional<unsigned> Unit) const {
  // Callers of each function, over the followed calls; a TU's own pass
  // looks at its own functions only, so all of them together stay linear.
  llvm::DenseMap<unsigned, std::vector<std::pair<unsigned, int>>> Callers;
  std::deque<std::pair<unsigned, int>> Queue;
  BlockingMap Result;
  auto Seed = [&](unsigned Id) {
    const Function &Fn = Functions[Id];
    if (!Fn.HasBlockFacts)
      return;
    for (size_t I = 0; I < Fn.BlockCalls.size(); ++I) {
      const Call &C = Fn.BlockCalls[I];
      if (followsForBlocking(C) &&
          (!Unit || llvm::is_contained(Functions[C.Callee].BlockUnits, *Unit)))
        Callers[C.Callee].push_back({Id, static_cast<int>(I)});
    }
    if (Fn.Blocks) {
      int Condition = -1;
      if (Fn.Blocks->WhenParameter && !Unit)
        Condition = *Fn.Blocks->WhenParameter * 2 + Fn.Blocks->WhenValue;
      Result[key(Id, Condition)] = {0, -1, 0};
      Queue.push_back({Id, Condition});
    }
  };
  if (Unit) {
    for (unsigned Id : UnitFunctions[*Unit])
      Seed(Id);
  } else {
    for (unsigned Id = 0; Id < Functions.size(); ++Id)
      Seed(Id);
  }
  // Breadth-first from every blocking function backwards: each function's
  // shortest way to a blocking call, in one pass over (function, condition).
  while (!Queue.empty()) {
    auto [Callee, Condition] = Queue.front();
    Queue.pop_front();
    auto It = Callers.find(Callee);
    if (It == Callers.end())
      continue;
    const unsigned Distance = Result[key(Callee, Condition)].Distance + 1;
    for (auto [Caller, CallIndex] : It->second) {
      std::optional<int> AtCall =
          conditionAtCall(Functions[Caller].BlockCalls[CallIndex], Condition);
      if (!AtCall)
        continue; // the argument keeps the callee from blocking
      if (Result
              .try_emplace(key(Caller, *AtCall),
                           Blocks{Distance, CallIndex, Condition})
              .second)
        Queue.push_back({Caller, *AtCall});
    }
  }
  return Result;
}

void Program::resolveBlocking() {
  UnitFunctions.assign(Units.size(), {});
  for (unsigned Id = 0; Id < Functions.size(); ++Id)
    for (unsigned U : Functions[Id].BlockUnits)
      UnitFunctions[U].push_back(Id);
  const BlockingMap Global = blockingDistances(std::nullopt);
  // The conditions each function blocks under, from the map.
  llvm::DenseMap<unsigned, llvm::SmallVector<int, 1>> Conditions;
  for (const auto &Entry : Global)
    Conditions[Entry.first >> 32].push_back(
        static_cast<int>(Entry.first & 0xffffffffu) - 1);
  std::map<unsigned, BlockingMap> Local;
  for (unsigned Id = 0; Id < Functions.size(); ++Id) {
    const Function &Coroutine = Functions[Id];
    if (!Coroutine.Coroutine || !Coroutine.HasBlockFacts ||
        Coroutine.BlockUnits.empty())
      continue;
    const unsigned Home = Coroutine.BlockUnits.front();
    for (const Call &C : Coroutine.BlockCalls) {
      auto Found = Conditions.find(C.Callee);
      if (!followsForBlocking(C) || Found == Conditions.end())
        continue;
      // The shortest way the callee blocks with this call's arguments.
      std::optional<int> Best;
      for (int Condition : Found->second)
        if (conditionAtCall(C, Condition) &&
            (!Best || Global.lookup(key(C.Callee, Condition)).Distance <
                          Global.lookup(key(C.Callee, *Best)).Distance))
          Best = Condition;
      if (!Best)
        continue;
      // A chain inside the coroutine's own TU is coro-blocking-call's
      // finding already.
      auto [LocalIt, New] = Local.try_emplace(Home);
      if (New)
        LocalIt->second = blockingDistances(Home);
      if (LocalIt->second.count(key(C.Callee, -1)))
        continue;
      BlockingFinding F;
      F.Coroutine = Texts[Coroutine.Name].str();
      F.CoroutineUsr = Coroutine.Usr.str();
      F.TranslationUnit = Units[Home].str();
      F.Callee = Texts[Functions[C.Callee].Name].str();
      F.CalleeUsr = Functions[C.Callee].Usr.str();
      F.At = site(C.At);
      unsigned Node = C.Callee;
      int Condition = *Best;
      for (size_t Guard = 0; Guard <= Functions.size(); ++Guard) {
        const Function &Fn = Functions[Node];
        const Blocks Way = Global.lookup(key(Node, Condition));
        if (Way.Call < 0) {
          F.LeafFunction = Texts[Fn.Name].str();
          F.LeafTranslationUnit = Units[Fn.Unit].str();
          F.Leaf = blockFact(*Fn.Blocks);
          break;
        }
        const Call &Hop = Fn.BlockCalls[Way.Call];
        F.Steps.push_back({Texts[Fn.Name].str(),
                           Texts[Functions[Hop.Callee].Name].str(),
                           site(Hop.At), Units[Fn.Unit].str()});
        Node = Hop.Callee;
        Condition = Way.CalleeCondition;
      }
      Blocking.push_back(std::move(F));
    }
  }
  std::sort(Blocking.begin(), Blocking.end(),
            [](const BlockingFinding &A, const BlockingFinding &B) {
              return std::tie(A.At.File, A.At.Line, A.At.Column, A.Callee) <
                     std::tie(B.At.File, B.At.Line, B.At.Column, B.Callee);
            });
}

void Program::computeReach(const std::vector<unsigned> &Roots) {
  const size_t N = Functions.size();
  Reaches.assign(N, {});
  // The reach of one strongly connected component, once its callees
  // outside it are done: relaxed until no distance shrinks.
  auto Settle = [&](const std::vector<unsigned> &Members) {
    for (unsigned M : Members)
      for (size_t A = 0; A < Functions[M].Acquires.size(); ++A) {
        unsigned Lock = Functions[M].Acquires[A].Lock;
        if (llvm::none_of(Reaches[M],
                          [&](const Reach &R) { return R.Lock == Lock; }))
          Reaches[M].push_back({Lock, 0, -1, static_cast<unsigned>(A)});
      }
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (unsigned M : Members) {
        llvm::DenseMap<unsigned, unsigned> Index;
        for (unsigned I = 0; I < Reaches[M].size(); ++I)
          Index[Reaches[M][I].Lock] = I;
        const std::vector<Call> &Calls = Functions[M].LockCalls;
        for (size_t I = 0; I < Calls.size(); ++I) {
          // A call to itself reaches nothing new.
          if (!followsForLocks(Calls[I]) || Calls[I].Callee == M)
            continue;
          for (const Reach &R : Reaches[Calls[I].Callee]) {
            auto [It, New] = Index.try_emplace(R.Lock, Reaches[M].size());
            if (New) {
              Reaches[M].push_back(
                  {R.Lock, R.Distance + 1, static_cast<int>(I), 0});
              Changed = true;
            } else if (R.Distance + 1 < Reaches[M][It->second].Distance) {
              Reaches[M][It->second] = {R.Lock, R.Distance + 1,
                                        static_cast<int>(I), 0};
              Changed = true;
            }
          }
        }
      }
    }
  };
  forEachStronglyConnectedComponent(
      N, Roots, [&](unsigned Id) { return Functions[Id].LockCalls.size(); },
      [&](unsigned Id, size_t I) -> std::optional<unsigned> {
        const Call &C = Functions[Id].LockCalls[I];
        if (!followsForLocks(C))
          return std::nullopt;
        return C.Callee;
      },
      [&](std::vector<unsigned> Members) { Settle(Members); });
}

std::vector<lockgraph::Step> Program::lockChain(unsigned From,
                                                unsigned Lock) const {
  std::vector<lockgraph::Step> Chain;
  unsigned Node = From;
  // Distances shrink along the chain, so it ends; the guard is for bugs.
  for (size_t Guard = 0; Guard <= Functions.size(); ++Guard) {
    const Function &Fn = Functions[Node];
    auto It = llvm::find_if(Reaches[Node],
                            [&](const Reach &R) { return R.Lock == Lock; });
    if (It == Reaches[Node].end())
      break;
    if (It->Call < 0) {
      Chain.push_back(
          {Texts[Fn.LockName].str(), site(Fn.Acquires[It->Acquire].At)});
      break;
    }
    const Call &Hop = Fn.LockCalls[It->Call];
    Chain.push_back({Texts[Fn.LockName].str(), site(Hop.At)});
    Node = Hop.Callee;
  }
  return Chain;
}

void Program::resolveLockOrders() {
  for (lockgraph::Edge &E : UnitEdges)
    Orders.add(std::move(E));
  UnitEdges.clear();
  std::vector<unsigned> Roots;
  for (const Function &Fn : Functions)
    for (const Call &C : Fn.LockCalls)
      if (!C.Held.empty() && followsForLocks(C))
        Roots.push_back(C.Callee);
  computeReach(Roots);

  // One candidate per pair of locks, the one at the smallest place; its
  // chain is spelled out only once it has won.
  struct Candidate {
    unsigned Caller;
    const Call *Through;
    const PackedSite *HeldAt;
  };
  std::map<std::pair<unsigned, unsigned>, Candidate> Best;
  auto Key = [&](const Candidate &C) {
    return std::make_tuple(Units[Functions[C.Caller].Unit],
                           Texts[C.Through->At.File], C.Through->At.Line,
                           C.Through->At.Column);
  };
  for (unsigned Id = 0; Id < Functions.size(); ++Id)
    for (const Call &C : Functions[Id].LockCalls) {
      if (C.Held.empty() || !followsForLocks(C))
        continue;
      for (const Reach &R : Reaches[C.Callee])
        for (const auto &[Held, HeldAt] : C.Held) {
          if (Held == R.Lock)
            continue; // the same class: not an order
          Candidate New{Id, &C, &HeldAt};
          auto [It, Inserted] = Best.try_emplace({Held, R.Lock}, New);
          if (!Inserted && Key(New) < Key(It->second))
            It->second = New;
        }
    }
  for (const auto &[Pair, C] : Best) {
    lockgraph::Edge E;
    E.From = LockNames[Pair.first].str();
    E.To = LockNames[Pair.second].str();
    E.Function = Texts[Functions[C.Caller].LockName].str();
    E.At = site(C.Through->At);
    E.HeldAt = site(*C.HeldAt);
    E.Via = lockChain(C.Through->Callee, Pair.second);
    E.TranslationUnit = Units[Functions[C.Caller].Unit].str();
    Locks.insert(E.From);
    Locks.insert(E.To);
    Orders.add(std::move(E));
  }
  DerivedOrders = Best.size();
}

void Program::link() {
  resolveBlocking();
  resolveLockOrders();
}

Totals Program::totals() const {
  Totals T;
  T.Units = Units.size();
  T.Summaries = Summaries;
  for (const Function &Fn : Functions) {
    T.Functions += Fn.Defined;
    T.Calls += Fn.BlockCalls.size() + Fn.LockCalls.size();
  }
  T.OrdersThroughCalls = DerivedOrders;
  return T;
}

std::vector<std::string>
Program::affectedBy(const std::set<std::string> &Changed) const {
  llvm::DenseMap<unsigned, std::vector<unsigned>> Callers;
  std::deque<unsigned> Queue;
  std::vector<bool> Affected(Functions.size(), false);
  for (unsigned Id = 0; Id < Functions.size(); ++Id) {
    const Function &Fn = Functions[Id];
    for (const auto *Calls : {&Fn.BlockCalls, &Fn.LockCalls})
      for (const Call &C : *Calls)
        Callers[C.Callee].push_back(Id);
    bool Seeded = !Fn.Defined || Changed.count(Units[Fn.Unit].str());
    for (unsigned U : Fn.BlockUnits)
      Seeded |= Changed.count(Units[U].str()) > 0;
    if (Seeded) {
      Affected[Id] = true;
      Queue.push_back(Id);
    }
  }
  while (!Queue.empty()) {
    unsigned Id = Queue.front();
    Queue.pop_front();
    auto It = Callers.find(Id);
    if (It == Callers.end())
      continue;
    for (unsigned Caller : It->second)
      if (!Affected[Caller]) {
        Affected[Caller] = true;
        Queue.push_back(Caller);
      }
  }
  std::vector<std::string> Result;
  for (unsigned Id = 0; Id < Functions.size(); ++Id)
    if (Affected[Id] && Functions[Id].Defined)
      Result.push_back(Functions[Id].Usr.str());
  std::sort(Result.begin(), Result.end());
  return Result;
}

} // namespace coroscope::link
