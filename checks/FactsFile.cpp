//===--- FactsFile.cpp - what one translation unit tells the link phase ---===//

#include "FactsFile.h"
#include "BoundedJson.h"
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

void writeCall(llvm::json::OStream &J, const CallFact &C) {
  J.object([&] {
    J.attribute("usr", C.Usr);
    J.attribute("name", C.Name);
    writeSite(J, "at", C.At);
    if (C.Awaited)
      J.attribute("awaited", true);
    if (!C.Arguments.empty())
      J.attributeArray("arguments", [&] {
        for (const ArgumentFact &A : C.Arguments)
          J.object([&] {
            J.attribute("index", A.Index);
            if (A.Value)
              J.attribute("value", *A.Value);
            if (A.Parameter)
              J.attribute("parameter", *A.Parameter);
          });
      });
    if (C.Held.empty())
      return;
    J.attributeArray("held", [&] {
      for (const HeldAtCall &H : C.Held)
        J.object([&] {
          J.attribute("lock", H.Lock);
          writeSite(J, "at", H.HeldAt);
        });
    });
  });
}

void writeFunction(llvm::json::OStream &J, const FunctionFact &F) {
  J.object([&] {
    J.attribute("usr", F.Usr);
    J.attribute("name", F.Name);
    writeSite(J, "at", F.At);
    J.attribute("hash", F.Hash);
    if (F.Coroutine)
      J.attribute("coroutine", true);
    if (F.Blocks)
      J.attributeObject("blocks", [&] {
        J.attribute("subject", F.Blocks->Subject);
        J.attribute("reason", F.Blocks->Reason);
        writeSite(J, "at", F.Blocks->At);
        if (F.Blocks->WhenParameter)
          J.attributeObject("when", [&] {
            J.attribute("parameter", *F.Blocks->WhenParameter);
            J.attribute("value", F.Blocks->WhenValue);
          });
      });
    if (!F.Acquires.empty())
      J.attributeArray("acquires", [&] {
        for (const AcquireFact &A : F.Acquires)
          J.object([&] {
            J.attribute("lock", A.Lock);
            writeSite(J, "at", A.At);
          });
      });
    if (!F.Calls.empty())
      J.attributeArray("calls", [&] {
        for (const CallFact &C : F.Calls)
          writeCall(J, C);
      });
  });
}

/// Sorted copies, so the text does not depend on the order facts arrive in.
FunctionFact canonical(FunctionFact F) {
  std::sort(F.Acquires.begin(), F.Acquires.end(),
            [](const AcquireFact &A, const AcquireFact &B) {
              return std::tie(A.Lock, A.At.File, A.At.Line, A.At.Column) <
                     std::tie(B.Lock, B.At.File, B.At.Line, B.At.Column);
            });
  for (CallFact &C : F.Calls)
    std::sort(C.Held.begin(), C.Held.end(),
              [](const HeldAtCall &A, const HeldAtCall &B) {
                return std::tie(A.Lock, A.HeldAt.File, A.HeldAt.Line,
                                A.HeldAt.Column) <
                       std::tie(B.Lock, B.HeldAt.File, B.HeldAt.Line,
                                B.HeldAt.Column);
              });
  std::sort(F.Calls.begin(), F.Calls.end(),
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
  std::sort(Edges.begin(), Edges.end(), [](const Edge *A, const Edge *B) {
    return std::tie(A->From, A->To, A->At.File, A->At.Line, A->At.Column) <
           std::tie(B->From, B->To, B->At.File, B->At.Line, B->At.Column);
  });
  std::vector<InputFact> Inputs = F.Inputs;
  std::sort(
      Inputs.begin(), Inputs.end(),
      [](const InputFact &A, const InputFact &B) { return A.File < B.File; });
  std::vector<FunctionFact> Functions;
  for (const FunctionFact &Function : F.Functions)
    Functions.push_back(canonical(Function));
  std::sort(Functions.begin(), Functions.end(),
            [](const FunctionFact &A, const FunctionFact &B) {
              return A.Usr < B.Usr;
            });

  // One entry per line: diffable, and small enough that a program's
  // thousands of files merge fast.
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  auto Compact = [&](auto &&Body) {
    llvm::json::OStream J(OS, 0);
    Body(J);
  };
  auto List = [&](llvm::StringRef Key, size_t Count, auto &&Entry) {
    OS << ",\n \"" << Key << "\": [";
    for (size_t I = 0; I < Count; ++I) {
      OS << (I ? ",\n  " : "\n  ");
      Compact([&](llvm::json::OStream &J) { Entry(J, I); });
    }
    OS << (Count ? "\n ]" : "]");
  };
  if (F.Version == 1)
    OS << "{\"format\": \"coroscope-lockfacts\", \"version\": 1,\n";
  else
    OS << "{\"format\": \"coroscope-facts\", \"version\": 2,\n";
  if (!F.Check.empty() && F.Version != 1) {
    OS << " \"check\": ";
    Compact([&](llvm::json::OStream &J) { J.value(F.Check); });
    OS << ",\n";
  }
  if (F.RunTime)
    OS << " \"source\": \"run-time\",\n";
  OS << " \"translation_unit\": ";
  Compact([&](llvm::json::OStream &J) { J.value(F.TranslationUnit); });
  if (F.Version != 1)
    List("inputs", Inputs.size(), [&](llvm::json::OStream &J, size_t I) {
      J.object([&] {
        J.attribute("file", Inputs[I].File);
        J.attribute("hash", Inputs[I].Hash);
      });
    });
  List("locks", Locks.size(),
       [&](llvm::json::OStream &J, size_t I) { J.value(Locks[I]); });
  List("edges", Edges.size(), [&](llvm::json::OStream &J, size_t I) {
    const Edge *E = Edges[I];
    J.object([&] {
      J.attribute("from", E->From);
      J.attribute("to", E->To);
      J.attribute("function", E->Function);
      writeEdgePlaces(J, *E);
    });
  });
  if (F.Version != 1)
    List("functions", Functions.size(), [&](llvm::json::OStream &J, size_t I) {
      writeFunction(J, Functions[I]);
    });
  OS << "}\n";
  return Text;
}

namespace {

llvm::Error malformed(const llvm::Twine &What) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "malformed facts file: " + What);
}

llvm::Expected<Site> readSite(const llvm::json::Object *O, llvm::StringRef Key,
                              const llvm::Twine &Owner) {
  const llvm::json::Object *S = O ? O->getObject(Key) : nullptr;
  if (!S)
    return malformed(Owner + " has no '" + Key + "' site");
  auto File = S->getString("file");
  auto Line = S->getInteger("line");
  auto Column = S->getInteger("column");
  if (!File || !Line || !Column || *Line < 0 || *Column < 0 ||
      *Line > UINT32_MAX || *Column > UINT32_MAX)
    return malformed("site '" + Key + "' needs a file, a line and a column");
  return Site{File->str(), static_cast<unsigned>(*Line),
              static_cast<unsigned>(*Column)};
}

llvm::Error readEdge(const llvm::json::Value &V, Facts &F) {
  const llvm::json::Object *O = V.getAsObject();
  auto From = O ? O->getString("from") : std::nullopt;
  auto To = O ? O->getString("to") : std::nullopt;
  auto Function = O ? O->getString("function") : std::nullopt;
  if (!From || !To || !Function)
    return malformed("an edge needs 'from', 'to' and 'function'");
  Edge E;
  E.From = From->str();
  E.To = To->str();
  E.Function = Function->str();
  E.TranslationUnit = F.TranslationUnit;
  E.Static = !F.RunTime;
  E.RunTime = F.RunTime;
  auto At = readSite(O, "at", "an edge");
  if (!At)
    return At.takeError();
  auto HeldAt = readSite(O, "held_at", "an edge");
  if (!HeldAt)
    return HeldAt.takeError();
  E.At = *At;
  E.HeldAt = *HeldAt;
  if (const llvm::json::Array *Via = O->getArray("via"))
    for (const llvm::json::Value &S : *Via) {
      const llvm::json::Object *SO = S.getAsObject();
      auto Callee = SO ? SO->getString("function") : std::nullopt;
      if (!Callee)
        return malformed("a 'via' step needs a 'function'");
      auto StepAt = readSite(SO, "at", "a 'via' step");
      if (!StepAt)
        return StepAt.takeError();
      E.Via.push_back({Callee->str(), *StepAt});
    }
  F.Edges.push_back(std::move(E));
  return llvm::Error::success();
}

llvm::Error readFunction(const llvm::json::Value &V, Facts &F) {
  const llvm::json::Object *O = V.getAsObject();
  auto Usr = O ? O->getString("usr") : std::nullopt;
  auto Name = O ? O->getString("name") : std::nullopt;
  auto Hash = O ? O->getString("hash") : std::nullopt;
  if (!Usr || Usr->empty() || !Name || !Hash)
    return malformed("a function needs a 'usr', a 'name' and a 'hash'");
  FunctionFact Function;
  Function.Usr = Usr->str();
  Function.Name = Name->str();
  Function.Hash = Hash->str();
  auto At = readSite(O, "at", "function '" + *Name + "'");
  if (!At)
    return At.takeError();
  Function.At = *At;
  Function.Coroutine = O->getBoolean("coroutine").value_or(false);
  if (const llvm::json::Object *Blocks = O->getObject("blocks")) {
    auto Subject = Blocks->getString("subject");
    auto Reason = Blocks->getString("reason");
    if (!Subject || !Reason)
      return malformed("'blocks' needs a 'subject' and a 'reason'");
    auto BlockAt = readSite(Blocks, "at", "'blocks'");
    if (!BlockAt)
      return BlockAt.takeError();
    Function.Blocks.emplace();
    Function.Blocks->Subject = Subject->str();
    Function.Blocks->Reason = Reason->str();
    Function.Blocks->At = *BlockAt;
    if (const llvm::json::Object *When = Blocks->getObject("when")) {
      auto Parameter = When->getInteger("parameter");
      auto Value = When->getBoolean("value");
      if (!Parameter || *Parameter < 0 || *Parameter > 255 || !Value)
        return malformed("'when' needs a 'parameter' (0-255) and a 'value'");
      Function.Blocks->WhenParameter = static_cast<unsigned>(*Parameter);
      Function.Blocks->WhenValue = *Value;
    }
  }
  if (const llvm::json::Array *Acquires = O->getArray("acquires"))
    for (const llvm::json::Value &A : *Acquires) {
      const llvm::json::Object *AO = A.getAsObject();
      auto Lock = AO ? AO->getString("lock") : std::nullopt;
      if (!Lock)
        return malformed("an acquisition needs a 'lock'");
      auto AcquiredAt = readSite(AO, "at", "an acquisition");
      if (!AcquiredAt)
        return AcquiredAt.takeError();
      Function.Acquires.push_back({Lock->str(), *AcquiredAt});
    }
  if (const llvm::json::Array *Calls = O->getArray("calls")) {
    if (Calls->size() > MaxCallsPerFunction)
      return malformed("function '" + *Name + "' has more than " +
                       llvm::Twine(MaxCallsPerFunction) + " calls");
    for (const llvm::json::Value &C : *Calls) {
      const llvm::json::Object *CO = C.getAsObject();
      auto CalleeUsr = CO ? CO->getString("usr") : std::nullopt;
      auto CalleeName = CO ? CO->getString("name") : std::nullopt;
      if (!CalleeUsr || CalleeUsr->empty() || !CalleeName)
        return malformed("a call needs a 'usr' and a 'name'");
      auto CallAt = readSite(CO, "at", "a call");
      if (!CallAt)
        return CallAt.takeError();
      CallFact Call;
      Call.Usr = CalleeUsr->str();
      Call.Name = CalleeName->str();
      Call.At = *CallAt;
      Call.Awaited = CO->getBoolean("awaited").value_or(false);
      if (const llvm::json::Array *Arguments = CO->getArray("arguments")) {
        if (Arguments->size() > MaxArgumentsPerCall)
          return malformed("a call has more than " +
                           llvm::Twine(MaxArgumentsPerCall) + " arguments");
        for (const llvm::json::Value &A : *Arguments) {
          const llvm::json::Object *AO = A.getAsObject();
          auto Index = AO ? AO->getInteger("index") : std::nullopt;
          auto Value = AO ? AO->getBoolean("value") : std::nullopt;
          auto Parameter = AO ? AO->getInteger("parameter") : std::nullopt;
          if (!Index || *Index < 0 || *Index > 255 || (!Value && !Parameter) ||
              (Parameter && (*Parameter < 0 || *Parameter > 255)))
            return malformed("an argument needs an 'index' (0-255) and a "
                             "'value' or a 'parameter' (0-255)");
          ArgumentFact Argument;
          Argument.Index = static_cast<unsigned>(*Index);
          Argument.Value = Value;
          if (Parameter)
            Argument.Parameter = static_cast<unsigned>(*Parameter);
          Call.Arguments.push_back(Argument);
        }
      }
      if (const llvm::json::Array *Held = CO->getArray("held")) {
        if (Held->size() > MaxHeldPerCall)
          return malformed("a call holds more than " +
                           llvm::Twine(MaxHeldPerCall) + " locks");
        for (const llvm::json::Value &H : *Held) {
          const llvm::json::Object *HO = H.getAsObject();
          auto Lock = HO ? HO->getString("lock") : std::nullopt;
          if (!Lock)
            return malformed("a held lock needs a 'lock'");
          auto HeldAt = readSite(HO, "at", "a held lock");
          if (!HeldAt)
            return HeldAt.takeError();
          Call.Held.push_back({Lock->str(), *HeldAt});
        }
      }
      Function.Calls.push_back(std::move(Call));
    }
  }
  F.Functions.push_back(std::move(Function));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<Facts> readFacts(llvm::StringRef Text) {
  llvm::Expected<llvm::json::Value> Parsed = parseBoundedJson(Text);
  if (!Parsed)
    return malformed(llvm::toString(Parsed.takeError()));
  const llvm::json::Object *Root = Parsed->getAsObject();
  auto Format = Root ? Root->getString("format") : std::nullopt;
  auto Version = Root ? Root->getInteger("version") : std::nullopt;
  Facts F;
  if (Format == "coroscope-lockfacts" && Version == 1)
    F.Version = 1;
  else if (Format == "coroscope-facts" && Version == 2)
    F.Version = 2;
  else if (Format == "coroscope-lockfacts" || Format == "coroscope-facts")
    return malformed("unsupported version (this coroscope reads "
                     "coroscope-lockfacts 1 and coroscope-facts 2)");
  else
    return malformed("not a coroscope facts document");
  if (auto Source = Root->getString("source")) {
    if (*Source != "run-time" && *Source != "static")
      return malformed("'source' must be \"static\" or \"run-time\"");
    F.RunTime = *Source == "run-time";
  }
  if (F.Version == 2) {
    auto Check = Root->getString("check");
    if (!Check)
      return malformed("no 'check'");
    F.Check = Check->str();
  }
  if (auto TU = Root->getString("translation_unit"))
    F.TranslationUnit = TU->str();
  else
    return malformed("no 'translation_unit'");
  const llvm::json::Array *Locks = Root->getArray("locks");
  const llvm::json::Array *Edges = Root->getArray("edges");
  if (!Locks || !Edges)
    return malformed("no 'locks' or 'edges' array");
  for (const llvm::json::Value &L : *Locks) {
    auto Name = L.getAsString();
    if (!Name)
      return malformed("a lock is not a string");
    F.Locks.push_back(Name->str());
  }
  for (const llvm::json::Value &V : *Edges)
    if (llvm::Error Error = readEdge(V, F))
      return std::move(Error);
  if (F.Version == 1)
    return F;
  const llvm::json::Array *Inputs = Root->getArray("inputs");
  const llvm::json::Array *Functions = Root->getArray("functions");
  if (!Inputs || !Functions)
    return malformed("no 'inputs' or 'functions' array");
  for (const llvm::json::Value &V : *Inputs) {
    const llvm::json::Object *O = V.getAsObject();
    auto File = O ? O->getString("file") : std::nullopt;
    auto Hash = O ? O->getString("hash") : std::nullopt;
    if (!File || !Hash)
      return malformed("an input needs a 'file' and a 'hash'");
    F.Inputs.push_back({File->str(), Hash->str()});
  }
  for (const llvm::json::Value &V : *Functions)
    if (llvm::Error Error = readFunction(V, F))
      return std::move(Error);
  return F;
}

} // namespace coroscope::lockgraph
