//===--- FactsFile.cpp - writing what one TU tells the link phase ---------===//

#include "FactsFile.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include <algorithm>

namespace coroscope::lockgraph {

std::string contentHash(llvm::StringRef Bytes) {
  std::string Text;
  llvm::raw_string_ostream(Text)
      << llvm::format_hex_no_prefix(llvm::xxh3_64bits(Bytes), 16);
  return Text;
}

namespace {

/// The strings of a file's summaries, each written once: summaries refer to
/// them by index, in the order of first use.
class StringTable {
public:
  unsigned operator()(llvm::StringRef S) {
    auto [It, New] = Ids.try_emplace(S, Order.size());
    if (New)
      Order.push_back(It->first());
    return It->second;
  }
  /// The strings added since the last call, in order.
  llvm::ArrayRef<llvm::StringRef> takeNew() {
    llvm::ArrayRef<llvm::StringRef> New =
        llvm::ArrayRef(Order).drop_front(Written);
    Written = Order.size();
    return New;
  }

private:
  llvm::StringMap<unsigned> Ids;
  std::vector<llvm::StringRef> Order;
  size_t Written = 0;
};

void writeEdge(llvm::json::OStream &J, const Edge &E) {
  J.object([&] {
    J.attribute("from", E.From);
    J.attribute("to", E.To);
    J.attribute("function", E.Function);
    writeEdgePlaces(J, E);
  });
}

/// Version 1, coroscope-lockfacts: one JSON document, one entry per line.
void writeLockFactsVersion1(llvm::raw_ostream &OS, llvm::StringRef Unit,
                            bool RunTime, llvm::ArrayRef<std::string> Locks,
                            llvm::ArrayRef<const Edge *> Edges) {
  auto List = [&](llvm::StringRef Key, size_t Count, auto &&Entry) {
    OS << ",\n \"" << Key << "\": [";
    for (size_t I = 0; I < Count; ++I) {
      OS << (I ? ",\n  " : "\n  ");
      llvm::json::OStream J(OS, 0);
      Entry(J, I);
    }
    OS << (Count ? "\n ]" : "]");
  };
  OS << "{\"format\": \"coroscope-lockfacts\", \"version\": 1,\n";
  if (RunTime)
    OS << " \"source\": \"run-time\",\n";
  OS << " \"translation_unit\": ";
  llvm::json::OStream(OS, 0).value(Unit);
  List("locks", Locks.size(),
       [&](llvm::json::OStream &J, size_t I) { J.value(Locks[I]); });
  List("edges", Edges.size(),
       [&](llvm::json::OStream &J, size_t I) { writeEdge(J, *Edges[I]); });
  OS << "}\n";
}

/// `file, line, column`, spliced into the enclosing array.
void writePlace(llvm::json::OStream &J, StringTable &Strings, const Site &S) {
  J.value(Strings(S.File));
  J.value(S.Line);
  J.value(S.Column);
}

void writeLockAt(llvm::json::OStream &J, StringTable &Strings,
                 llvm::StringRef Lock, const Site &At) {
  J.array([&] {
    J.value(Strings(Lock));
    writePlace(J, Strings, At);
  });
}

// [usr, name, file, line, column] and, when it has more to say,
// [..., awaited, arguments, held].
void writeCall(llvm::json::OStream &J, StringTable &Strings,
               const CallFact &C) {
  J.array([&] {
    J.value(Strings(C.Usr));
    J.value(Strings(C.Name));
    writePlace(J, Strings, C.At);
    if (!C.Awaited && C.Arguments.empty() && C.Held.empty())
      return;
    J.value(C.Awaited ? 1 : 0);
    J.array([&] {
      for (const ArgumentFact &A : C.Arguments)
        J.array([&] {
          J.value(A.Index);
          if (A.Value)
            J.value(*A.Value);
          else
            J.value(A.Parameter.value_or(0));
        });
    });
    J.array([&] {
      for (const HeldAtCall &H : C.Held)
        writeLockAt(J, Strings, H.Lock, H.HeldAt);
    });
  });
}

// [usr, name, file, line, column, hash, coroutine, blocks, acquires, calls];
// blocks is 0 or [subject, reason, file, line, column] with, for a
// conditional one, [..., parameter, value].
void writeFunction(llvm::json::OStream &J, StringTable &Strings,
                   const FunctionFact &F) {
  J.array([&] {
    J.value(Strings(F.Usr));
    J.value(Strings(F.Name));
    writePlace(J, Strings, F.At);
    J.value(F.Hash);
    J.value(F.Coroutine ? 1 : 0);
    if (!F.Blocks)
      J.value(0);
    else
      J.array([&] {
        J.value(Strings(F.Blocks->Subject));
        J.value(Strings(F.Blocks->Reason));
        writePlace(J, Strings, F.Blocks->At);
        if (F.Blocks->WhenParameter) {
          J.value(*F.Blocks->WhenParameter);
          J.value(F.Blocks->WhenValue ? 1 : 0);
        }
      });
    J.array([&] {
      for (const AcquireFact &A : F.Acquires)
        writeLockAt(J, Strings, A.Lock, A.At);
    });
    J.array([&] {
      for (const CallFact &C : F.Calls)
        writeCall(J, Strings, C);
    });
  });
}

/// Sorted copies, so the text does not depend on the order facts arrive in.
/// Stable sorts: entries equal in their keys keep their order, so writing
/// what was read gives the same text again.
FunctionFact canonical(FunctionFact F) {
  std::stable_sort(F.Acquires.begin(), F.Acquires.end(),
                   [](const AcquireFact &A, const AcquireFact &B) {
                     return std::tie(A.Lock, A.At.File, A.At.Line,
                                     A.At.Column) <
                            std::tie(B.Lock, B.At.File, B.At.Line, B.At.Column);
                   });
  for (CallFact &C : F.Calls)
    std::stable_sort(C.Held.begin(), C.Held.end(),
                     [](const HeldAtCall &A, const HeldAtCall &B) {
                       return std::tie(A.Lock, A.HeldAt.File, A.HeldAt.Line,
                                       A.HeldAt.Column) <
                              std::tie(B.Lock, B.HeldAt.File, B.HeldAt.Line,
                                       B.HeldAt.Column);
                     });
  std::stable_sort(F.Calls.begin(), F.Calls.end(),
                   [](const CallFact &A, const CallFact &B) {
                     return std::tie(A.At.File, A.At.Line, A.At.Column, A.Usr) <
                            std::tie(B.At.File, B.At.Line, B.At.Column, B.Usr);
                   });
  return F;
}

} // namespace

std::string writeFacts(const Facts &F) {
  std::vector<std::string> Locks = F.Locks;
  std::sort(Locks.begin(), Locks.end());
  Locks.erase(std::unique(Locks.begin(), Locks.end()), Locks.end());
  std::vector<const Edge *> Edges;
  for (const Edge &E : F.Edges)
    Edges.push_back(&E);
  std::stable_sort(
      Edges.begin(), Edges.end(), [](const Edge *A, const Edge *B) {
        return std::tie(A->From, A->To, A->At.File, A->At.Line, A->At.Column) <
               std::tie(B->From, B->To, B->At.File, B->At.Line, B->At.Column);
      });
  std::vector<InputFact> Inputs = F.Inputs;
  std::stable_sort(
      Inputs.begin(), Inputs.end(),
      [](const InputFact &A, const InputFact &B) { return A.File < B.File; });
  std::vector<FunctionFact> Functions;
  for (const FunctionFact &Function : F.Functions)
    Functions.push_back(canonical(Function));
  std::stable_sort(Functions.begin(), Functions.end(),
                   [](const FunctionFact &A, const FunctionFact &B) {
                     return A.Usr < B.Usr;
                   });

  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (F.Version == 1) {
    writeLockFactsVersion1(OS, F.TranslationUnit, F.RunTime, Locks, Edges);
    return Text;
  }
  // JSON Lines: the header, then each summary after the strings it is the
  // first to use. Diffable, and each line is parsed on its own, which is
  // what makes a program's thousands of files merge fast.
  {
    llvm::json::OStream J(OS, 0);
    J.object([&] {
      J.attribute("format", "coroscope-facts");
      J.attribute("version", 3);
      J.attribute("check", F.Check);
      if (F.RunTime)
        J.attribute("source", "run-time");
      J.attribute("translation_unit", F.TranslationUnit);
      J.attributeArray("inputs", [&] {
        for (const InputFact &Input : Inputs)
          J.object([&] {
            J.attribute("file", Input.File);
            J.attribute("hash", Input.Hash);
          });
      });
      J.attributeArray("locks", [&] {
        for (const std::string &Lock : Locks)
          J.value(Lock);
      });
      J.attributeArray("edges", [&] {
        for (const Edge *E : Edges)
          writeEdge(J, *E);
      });
    });
  }
  OS << "\n";
  StringTable Strings;
  for (const FunctionFact &Function : Functions) {
    std::string Entry;
    llvm::raw_string_ostream EntryOS(Entry);
    {
      llvm::json::OStream J(EntryOS, 0);
      writeFunction(J, Strings, Function);
    }
    for (llvm::StringRef New : Strings.takeNew()) {
      llvm::json::OStream(OS, 0).value(New);
      OS << "\n";
    }
    OS << Entry << "\n";
  }
  return Text;
}

} // namespace coroscope::lockgraph
