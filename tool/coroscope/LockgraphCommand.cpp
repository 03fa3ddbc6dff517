//===- LockgraphCommand.cpp - coroscope lockgraph -------------------------===//
//
// Merges the lock-order facts files that coro-lock-order-inversion writes
// (one per translation unit) and reports the cycles of the whole program.
//
//===----------------------------------------------------------------------===//
#include "CommandLine.h"
#include "Commands.h"
#include "InputFile.h"
#include "LockGraph.h"
#include "Sarif.h"
#include "coroscope/output.hpp"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace coroscope::tool {

namespace {

using lockgraph::Cycle;
using lockgraph::Edge;
using lockgraph::Site;

const char *const Usage =
    "usage: coroscope lockgraph [--format=text|json|sarif] [-o FILE]\n"
    "                           [--source-root DIR] PATH...\n"
    "\n"
    "Merges the lock-order facts files (*.lockfacts.json) that the\n"
    "coro-lock-order-inversion check writes with its FactsDirectory option,\n"
    "and reports every lock-order cycle of the whole program. A PATH is a\n"
    "facts file or a directory, searched recursively. -o - is stdout.\n"
    "SARIF locations are relative to --source-root (default: the enclosing\n"
    "git work tree, else the current directory), as %SRCROOT%.\n"
    "\n"
    "Exit status: 0 no cycle, 1 a cycle was found, 2 bad input.\n";

const char *const CheckName = "coro-lock-order-inversion";

int fail(const llvm::Twine &Message) {
  llvm::errs() << "coroscope lockgraph: error: " << Message << "\n";
  return 2;
}

void writeJson(llvm::raw_ostream &OS, const std::vector<Cycle> &Cycles,
               size_t Units, size_t Locks, size_t Edges) {
  llvm::json::OStream J(OS, 2);
  J.object([&] {
    J.attribute("format", "coroscope-lockgraph");
    J.attribute("version", 1);
    J.attribute("translation_units", static_cast<int64_t>(Units));
    J.attribute("locks", static_cast<int64_t>(Locks));
    J.attribute("edges", static_cast<int64_t>(Edges));
    J.attributeArray("cycles", [&] {
      for (const Cycle &C : Cycles)
        J.object([&] {
          J.attribute("message", lockgraph::cycleMessage(C));
          J.attribute("evidence", lockgraph::evidence(C));
          J.attributeArray("locks", [&] {
            for (const Edge *E : C.Edges)
              J.value(E->From);
          });
          J.attributeArray("edges", [&] {
            for (const Edge *E : C.Edges)
              J.object([&] {
                J.attribute("from", E->From);
                J.attribute("to", E->To);
                J.attribute("function", E->Function);
                J.attribute("translation_unit", E->TranslationUnit);
                J.attribute("evidence", lockgraph::evidence(*E));
                lockgraph::writeEdgePlaces(J, *E);
                J.attribute("note", lockgraph::describe(*E));
              });
          });
        });
    });
  });
  OS << "\n";
}

void writeSarif(llvm::raw_ostream &OS, const std::vector<Cycle> &Cycles,
                llvm::StringRef SourceRoot) {
  auto Location = [&](llvm::json::OStream &J, const Site &S) {
    sarif::writeLocation(J, S.File, S.Line, S.Column, SourceRoot);
  };
  const sarif::Rule Rules[] = {
      {CheckName, "Locks acquired in inconsistent orders across the program"}};
  sarif::writeLog(OS, "coroscope lockgraph", Rules, SourceRoot, [&](auto &J) {
    for (const Cycle &C : Cycles)
      J.object([&] {
        J.attribute("ruleId", CheckName);
        J.attribute("ruleIndex", 0);
        J.attribute("level", "warning");
        J.attributeObject("message", [&] {
          J.attribute("text", lockgraph::cycleMessage(C));
        });
        J.attributeArray("locations", [&] {
          J.object([&] { Location(J, C.Edges.front()->At); });
        });
        J.attributeArray("relatedLocations", [&] {
          for (size_t I = 0; I < C.Edges.size(); ++I)
            J.object([&] {
              J.attribute("id", static_cast<int64_t>(I));
              Location(J, C.Edges[I]->At);
              J.attributeObject("message", [&] {
                J.attribute("text", lockgraph::describe(*C.Edges[I]));
              });
            });
        });
        // The same cycle keeps its identity when lines move.
        std::string Locks;
        for (const Edge *E : C.Edges)
          Locks += E->From + "\n";
        J.attributeObject("partialFingerprints", [&] {
          J.attribute("lockCycle/v1", llvm::utohexstr(llvm::xxh3_64bits(Locks),
                                                      /*LowerCase=*/true));
        });
      });
  });
}

void writeText(llvm::raw_ostream &OS, const std::vector<Cycle> &Cycles) {
  auto Location = [](const Site &S) {
    return S.File + ":" + std::to_string(S.Line) + ":" +
           std::to_string(S.Column);
  };
  for (const Cycle &C : Cycles) {
    OS << Location(C.Edges.front()->At)
       << ": warning: " << lockgraph::cycleMessage(C) << " [" << CheckName
       << "]\n";
    for (const Edge *E : C.Edges)
      OS << Location(E->At) << ": note: " << lockgraph::describe(*E)
         << " (translation unit " << E->TranslationUnit << ")\n";
  }
}

} // namespace

int runLockgraph(const std::vector<std::string> &Args) {
  std::string Format = "text";
  OutputOptions Out;
  std::vector<std::string> Paths;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef Arg = Args[I];
    if (Arg == "--help" || Arg == "-h") {
      std::fputs(Usage, stdout);
      return 0;
    }
    std::string Error;
    if (Arg.consume_front("--format=")) {
      Format = Arg.str();
      if (Format != "text" && Format != "json" && Format != "sarif")
        return fail("unknown format '" + Format + "'; use text, json or sarif");
    } else if (takeOutputOption(Args, I, Out, Error)) {
      if (!Error.empty())
        return fail(Error);
    } else if (Arg.starts_with("-") && Arg != "-") {
      return fail("unknown option '" + Arg +
                  "'; run 'coroscope lockgraph "
                  "--help'");
    } else {
      Paths.push_back(Arg.str());
    }
  }
  if (Paths.empty())
    return fail("no facts file or directory given; run 'coroscope lockgraph "
                "--help'");

  // Every facts file, sorted: the result does not depend on directory order.
  std::vector<std::string> Files;
  for (const std::string &Path : Paths) {
    bool IsDirectory = false;
    if (std::error_code EC = llvm::sys::fs::is_directory(Path, IsDirectory))
      return fail(Path + ": " + EC.message());
    if (!IsDirectory) {
      Files.push_back(Path);
      continue;
    }
    std::error_code EC;
    for (llvm::sys::fs::recursive_directory_iterator It(Path, EC), End;
         It != End && !EC; It.increment(EC))
      if (llvm::StringRef(It->path()).ends_with(".lockfacts.json"))
        Files.push_back(It->path());
    if (EC)
      return fail(Path + ": " + EC.message());
  }
  std::sort(Files.begin(), Files.end());

  // Files are read and parsed on every core, each worker into its own
  // graph; the graphs are merged after. The first bad file in path order
  // is the one reported, whatever the scheduling.
  struct Worker {
    lockgraph::Graph Graph;
    std::set<std::string> Units;
    std::set<std::string> Locks;
    size_t FirstError = ~size_t(0);
    std::string Error;
  };
  const unsigned WorkerCount = std::clamp<unsigned>(
      std::thread::hardware_concurrency(), 1,
      std::max<size_t>(1, std::min<size_t>(Files.size(), 8)));
  std::vector<Worker> Workers(WorkerCount);
  auto Read = [&](unsigned W) {
    Worker &Mine = Workers[W];
    for (size_t I = W; I < Files.size(); I += WorkerCount) {
      auto Buffer = readInputFile(Files[I]);
      if (!Buffer) {
        Mine.FirstError = I;
        Mine.Error = llvm::toString(Buffer.takeError());
        return;
      }
      llvm::Expected<lockgraph::Facts> Facts =
          lockgraph::readFacts((*Buffer)->getBuffer());
      if (!Facts) {
        Mine.FirstError = I;
        Mine.Error = Files[I] + ": " + llvm::toString(Facts.takeError());
        return;
      }
      Mine.Units.insert(Facts->TranslationUnit);
      Mine.Locks.insert(Facts->Locks.begin(), Facts->Locks.end());
      for (Edge &E : Facts->Edges)
        Mine.Graph.add(std::move(E));
    }
  };
  std::vector<std::thread> Threads;
  for (unsigned W = 1; W < WorkerCount; ++W)
    Threads.emplace_back(Read, W);
  Read(0);
  for (std::thread &T : Threads)
    T.join();
  const Worker *Failed = nullptr;
  for (const Worker &W : Workers)
    if (!W.Error.empty() && (!Failed || W.FirstError < Failed->FirstError))
      Failed = &W;
  if (Failed)
    return fail(Failed->Error);
  lockgraph::Graph &Graph = Workers.front().Graph;
  std::set<std::string> &Units = Workers.front().Units;
  std::set<std::string> &Locks = Workers.front().Locks;
  for (unsigned W = 1; W < WorkerCount; ++W) {
    Graph.merge(std::move(Workers[W].Graph));
    Units.merge(Workers[W].Units);
    Locks.merge(Workers[W].Locks);
  }
  const std::vector<Cycle> Cycles = Graph.cycles();

  std::string Root;
  if (!sarif::resolveSourceRoot(Out.SourceRoot, Root))
    return fail("--source-root '" + Out.SourceRoot + "' does not exist");

  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (Format == "json")
    writeJson(OS, Cycles, Units.size(), Locks.size(), Graph.size());
  else if (Format == "sarif")
    writeSarif(OS, Cycles, Root);
  else
    writeText(OS, Cycles);
  OS.flush();
  if (std::string Error = writeOutput(Out.Output, Text); !Error.empty())
    return fail(Error);
  llvm::errs() << Cycles.size() << " lock-order cycle"
               << (Cycles.size() == 1 ? "" : "s") << " among " << Locks.size()
               << " locks (" << Graph.size() << " orders) in " << Units.size()
               << " translation unit" << (Units.size() == 1 ? "" : "s") << "\n";
  return Cycles.empty() ? 0 : 1;
}

} // namespace coroscope::tool
