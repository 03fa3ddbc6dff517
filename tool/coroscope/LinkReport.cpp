//===- LinkReport.cpp - what coroscope link reports, in each format -------===//
#include "LinkReport.h"
#include "BoundedJson.h"
#include "InputFile.h"
#include "Sarif.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/xxhash.h"

namespace coroscope::tool {

using link::BlockingFinding;
using lockgraph::Cycle;
using lockgraph::Edge;
using lockgraph::Site;

namespace {

const char *const BlockingCheck = "coro-blocking-call";
const char *const LockCheck = "coro-lock-order-inversion";
std::string location(const Site &S) {
  return S.File + ":" + std::to_string(S.Line) + ":" + std::to_string(S.Column);
}

std::string cycleFingerprint(const Cycle &C) {
  std::string Locks;
  for (const Edge *E : C.Edges)
    Locks += E->From + "\n";
  return llvm::utohexstr(llvm::xxh3_64bits(Locks), /*LowerCase=*/true);
}

} // namespace

std::vector<Finding> findings(const link::Program &P,
                              const std::vector<Cycle> &Cycles) {
  std::vector<Finding> Result;
  for (const BlockingFinding &B : P.blocking()) {
    Finding F{BlockingCheck, B.message(), B.fingerprint(), B.At, {}, &B};
    for (const link::ChainStep &S : B.Steps)
      F.Notes.push_back({S.At, "'" + S.Caller + "' calls '" + S.Callee +
                                   "' here (translation unit " +
                                   S.TranslationUnit + ")"});
    F.Notes.push_back({B.Leaf.At, B.Leaf.Subject + " blocks here, in '" +
                                      B.LeafFunction + "' (translation unit " +
                                      B.LeafTranslationUnit + ")"});
    Result.push_back(std::move(F));
  }
  for (const Cycle &C : Cycles) {
    Finding F{LockCheck, lockgraph::cycleMessage(C), cycleFingerprint(C),
              C.Edges.front()->At};
    F.LockCycle = &C;
    for (const Edge *E : C.Edges)
      F.Notes.push_back({E->At, lockgraph::describe(*E) +
                                    " (translation unit " + E->TranslationUnit +
                                    ")"});
    Result.push_back(std::move(F));
  }
  return Result;
}

llvm::Expected<Baseline> readBaseline(const std::string &Path) {
  auto Buffer = readInputFile(Path);
  if (!Buffer)
    return Buffer.takeError();
  auto Bad = [&](const llvm::Twine &Why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   Path +
                                       ": not a coroscope link result: " + Why);
  };
  llvm::Expected<llvm::json::Value> Parsed =
      parseBoundedJson((*Buffer)->getBuffer());
  if (!Parsed)
    return Bad(llvm::toString(Parsed.takeError()));
  const llvm::json::Object *Root = Parsed->getAsObject();
  if (!Root || Root->getString("format") != "coroscope-link" ||
      Root->getInteger("version") != 1)
    return Bad("no \"format\": \"coroscope-link\", \"version\": 1");
  const llvm::json::Array *List = Root->getArray("findings");
  if (!List)
    return Bad("no 'findings' array");
  Baseline B;
  for (const llvm::json::Value &V : *List) {
    const llvm::json::Object *O = V.getAsObject();
    auto Fingerprint = O ? O->getString("fingerprint") : std::nullopt;
    auto Check = O ? O->getString("check") : std::nullopt;
    auto Message = O ? O->getString("message") : std::nullopt;
    if (!Fingerprint || !Check || !Message)
      return Bad("a finding needs 'fingerprint', 'check' and 'message'");
    B.Findings[Fingerprint->str()] = {Check->str(), Message->str()};
  }
  if (const llvm::json::Array *Facts = Root->getArray("facts"))
    for (const llvm::json::Value &V : *Facts) {
      const llvm::json::Object *O = V.getAsObject();
      auto Path = O ? O->getString("path") : std::nullopt;
      auto Hash = O ? O->getString("hash") : std::nullopt;
      if (!Path || !Hash)
        return Bad("a facts entry needs 'path' and 'hash'");
      B.FactsHashes[Path->str()] = Hash->str();
    }
  return B;
}

void writeText(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
               bool OnlyNew) {
  for (const Finding &F : Findings) {
    if (OnlyNew && F.Status != "new")
      continue;
    OS << location(F.At) << ": warning: " << F.Message << " [" << F.Check
       << "]\n";
    for (const Finding::Note &N : F.Notes)
      OS << location(N.At) << ": note: " << N.Text << "\n";
  }
}

void writeJson(llvm::raw_ostream &OS, const link::Program &P,
               const std::vector<Finding> &Findings,
               const std::vector<std::pair<std::string, std::string>> &Facts,
               const std::vector<std::pair<std::string, std::string>> &Fixed,
               const std::vector<std::string> *Affected) {
  link::Totals T = P.totals();
  llvm::json::OStream J(OS, 2);
  J.object([&] {
    J.attribute("format", "coroscope-link");
    J.attribute("version", 1);
    J.attribute("translation_units", static_cast<int64_t>(T.Units));
    J.attribute("functions", static_cast<int64_t>(T.Functions));
    J.attribute("summaries", static_cast<int64_t>(T.Summaries));
    J.attribute("calls", static_cast<int64_t>(T.Calls));
    J.attribute("locks", static_cast<int64_t>(P.locks().size()));
    J.attribute("edges", static_cast<int64_t>(P.orders().size()));
    J.attribute("orders_through_calls",
                static_cast<int64_t>(T.OrdersThroughCalls));
    J.attributeArray("facts", [&] {
      for (const auto &[Path, Hash] : Facts)
        J.object([&] {
          J.attribute("path", Path);
          J.attribute("hash", Hash);
        });
    });
    J.attributeArray("mismatches", [&] {
      for (const link::Mismatch &M : P.mismatches())
        J.object([&] {
          J.attribute("function", M.Name);
          J.attribute("translation_units",
                      llvm::json::Array{M.FirstUnit, M.SecondUnit});
        });
    });
    J.attributeArray("findings", [&] {
      for (const Finding &F : Findings)
        J.object([&] {
          J.attribute("check", F.Check);
          J.attribute("fingerprint", F.Fingerprint);
          if (!F.Status.empty())
            J.attribute("status", F.Status);
          J.attribute("message", F.Message);
          lockgraph::writeSite(J, "at", F.At);
          J.attributeArray("notes", [&] {
            for (const Finding::Note &N : F.Notes)
              J.object([&] {
                lockgraph::writeSite(J, "at", N.At);
                J.attribute("message", N.Text);
              });
          });
          if (const BlockingFinding *B = F.Blocking) {
            J.attribute("coroutine", B->Coroutine);
            J.attribute("translation_unit", B->TranslationUnit);
            J.attribute("callee", B->Callee);
            J.attribute("blocking_function", B->LeafFunction);
            J.attribute("blocking_translation_unit", B->LeafTranslationUnit);
          }
          if (const Cycle *C = F.LockCycle) {
            J.attribute("evidence", lockgraph::evidence(*C));
            J.attributeArray("locks", [&] {
              for (const Edge *E : C->Edges)
                J.value(E->From);
            });
            J.attributeArray("edges", [&] {
              for (const Edge *E : C->Edges)
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
          }
        });
    });
    if (!Affected)
      return;
    J.attributeArray("fixed", [&] {
      for (const auto &[Check, Message] : Fixed)
        J.object([&] {
          J.attribute("check", Check);
          J.attribute("message", Message);
        });
    });
    J.attributeArray("affected_functions", [&] {
      for (const std::string &Usr : *Affected)
        J.value(Usr);
    });
  });
  OS << "\n";
}

void writeSarif(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                llvm::StringRef SourceRoot) {
  auto Location = [&](llvm::json::OStream &J, const Site &S) {
    sarif::writeLocation(J, S.File, S.Line, S.Column, SourceRoot);
  };
  const sarif::Rule Rules[] = {
      {BlockingCheck, "Coroutines that block their thread through calls "
                      "into other translation units"},
      {LockCheck, "Locks acquired in inconsistent orders across the program"}};
  sarif::writeLog(OS, "coroscope link", Rules, SourceRoot, [&](auto &J) {
    for (const Finding &F : Findings)
      J.object([&] {
        const bool Lock = F.Check == llvm::StringRef(LockCheck);
        J.attribute("ruleId", F.Check);
        J.attribute("ruleIndex", Lock ? 1 : 0);
        J.attribute("level", "warning");
        J.attributeObject("message", [&] { J.attribute("text", F.Message); });
        J.attributeArray("locations",
                         [&] { J.object([&] { Location(J, F.At); }); });
        J.attributeArray("relatedLocations", [&] {
          for (size_t I = 0; I < F.Notes.size(); ++I)
            J.object([&] {
              J.attribute("id", static_cast<int64_t>(I));
              Location(J, F.Notes[I].At);
              J.attributeObject("message",
                                [&] { J.attribute("text", F.Notes[I].Text); });
            });
        });
        // A finding keeps its identity when lines move.
        J.attributeObject("partialFingerprints", [&] {
          J.attribute(Lock ? "lockCycle/v1" : "blockingChain/v1",
                      F.Fingerprint);
        });
      });
  });
}

/// Parses the files in path order, on every core, in batches that bound the
/// memory parsed facts take before they are linked.
} // namespace coroscope::tool
