//===--- FactsReader.cpp - reading what one TU tells the link phase -------===//
//
// Files come from caches and other machines: every index, count and depth
// is checked, and the error says what is wrong.
//
//===----------------------------------------------------------------------===//

#include "BoundedJson.h"
#include "FactsFile.h"
#include "llvm/Support/JSON.h"
#include <algorithm>

namespace coroscope::lockgraph {

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

/// Reads version 3's summaries, whose strings are indices into the strings
/// the file's earlier lines declare, into their packed form. Each step
/// returns false after saying what is wrong in Problem.
class SummaryReader {
  static_assert(MaxCallsPerFunction == 4096 && MaxHeldPerCall == 64 &&
                    MaxArgumentsPerCall == 64,
                "the messages below name the limits");

public:
  explicit SummaryReader(PackedSummaries &Into) : Into(Into) {
    Into.Storage = std::make_shared<llvm::BumpPtrAllocator>();
  }

  void addString(llvm::StringRef S) {
    Into.Strings.push_back(S.copy(*Into.Storage));
  }

  bool function(const llvm::json::Value &V) {
    return readFunction(V, Into.Functions.emplace_back());
  }
  const char *problem() const { return Problem; }

private:
  bool fail(const char *What) {
    Problem = What;
    return false;
  }

  std::optional<unsigned> number(const llvm::json::Array &A, size_t I,
                                 int64_t Max = UINT32_MAX) const {
    std::optional<int64_t> N =
        I < A.size() ? A[I].getAsInteger() : std::nullopt;
    if (!N || *N < 0 || *N > Max)
      return std::nullopt;
    return static_cast<unsigned>(*N);
  }

  bool string(const llvm::json::Array &A, size_t I, uint32_t &Out) {
    std::optional<unsigned> Index = number(A, I);
    if (!Index || *Index >= Into.Strings.size())
      return fail("a string index is missing or out of range");
    Out = *Index;
    return true;
  }

  /// file, line, column at A[I], A[I+1], A[I+2].
  bool place(const llvm::json::Array &A, size_t I, PackedSite &Out) {
    std::optional<unsigned> Line = number(A, I + 1);
    std::optional<unsigned> Column = number(A, I + 2);
    if (!Line || !Column)
      return fail("a site needs a file, a line and a column");
    Out.Line = *Line;
    Out.Column = *Column;
    return string(A, I, Out.File);
  }

  /// [lock, file, line, column]
  bool lockAt(const llvm::json::Value &V, PackedLockAt &Out) {
    const llvm::json::Array *A = V.getAsArray();
    if (!A || A->size() != 4)
      return fail("a lock entry is not [lock, file, line, column]");
    return string(*A, 0, Out.Lock) && place(*A, 1, Out.At);
  }

  bool nonEmpty(uint32_t Index) const { return !Into.Strings[Index].empty(); }

  bool readFunction(const llvm::json::Value &V, PackedFunction &Function) {
    const llvm::json::Array *A = V.getAsArray();
    if (!A || A->size() != 10)
      return fail("a function is not an array of 10 items");
    std::optional<llvm::StringRef> Hash = (*A)[5].getAsString();
    std::optional<unsigned> Coroutine = number(*A, 6, 1);
    const llvm::json::Array *Acquires = (*A)[8].getAsArray();
    const llvm::json::Array *Calls = (*A)[9].getAsArray();
    if (!Hash || !Coroutine || !Acquires || !Calls)
      return fail("a function's hash, coroutine flag, acquisitions or calls "
                  "are malformed");
    if (Calls->size() > MaxCallsPerFunction)
      return fail("a function has more than 4096 calls");
    Function.Hash = Hash->copy(*Into.Storage);
    Function.Coroutine = *Coroutine;
    if (!string(*A, 0, Function.Usr) || !string(*A, 1, Function.Name) ||
        !place(*A, 2, Function.At) || !blocks((*A)[7], Function))
      return false;
    if (!nonEmpty(Function.Usr))
      return fail("a function's usr is empty");
    Function.Acquires.resize(Acquires->size());
    for (size_t I = 0; I < Acquires->size(); ++I)
      if (!lockAt((*Acquires)[I], Function.Acquires[I]))
        return false;
    Function.Calls.resize(Calls->size());
    for (size_t I = 0; I < Calls->size(); ++I)
      if (!call((*Calls)[I], Function.Calls[I]))
        return false;
    return true;
  }

  bool blocks(const llvm::json::Value &V, PackedFunction &Function) {
    if (V.getAsInteger() == 0)
      return true;
    const llvm::json::Array *A = V.getAsArray();
    if (!A || (A->size() != 5 && A->size() != 7))
      return fail("'blocks' is neither 0 nor an array of 5 or 7 items");
    PackedBlock &Fact = Function.Blocks.emplace();
    if (!string(*A, 0, Fact.Subject) || !string(*A, 1, Fact.Reason) ||
        !place(*A, 2, Fact.At))
      return false;
    if (A->size() == 7) {
      std::optional<unsigned> Parameter = number(*A, 5, 255);
      std::optional<unsigned> Value = number(*A, 6, 1);
      if (!Parameter || !Value)
        return fail("'blocks' needs a parameter (0-255) and a value (0 or 1)");
      Fact.WhenParameter = *Parameter;
      Fact.WhenValue = *Value;
    }
    return true;
  }

  bool call(const llvm::json::Value &V, PackedCall &Call) {
    const llvm::json::Array *A = V.getAsArray();
    if (!A || (A->size() != 5 && A->size() != 8))
      return fail("a call is not an array of 5 or 8 items");
    if (!string(*A, 0, Call.Usr) || !string(*A, 1, Call.Name) ||
        !place(*A, 2, Call.At))
      return false;
    if (!nonEmpty(Call.Usr))
      return fail("a call's usr is empty");
    if (A->size() == 5)
      return true;
    std::optional<unsigned> Awaited = number(*A, 5, 1);
    const llvm::json::Array *Arguments = (*A)[6].getAsArray();
    const llvm::json::Array *Held = (*A)[7].getAsArray();
    if (!Awaited || !Arguments || !Held)
      return fail("a call's awaited flag, arguments or held locks are "
                  "malformed");
    if (Arguments->size() > MaxArgumentsPerCall)
      return fail("a call has more than 64 arguments");
    if (Held->size() > MaxHeldPerCall)
      return fail("a call holds more than 64 locks");
    Call.Awaited = *Awaited;
    for (const llvm::json::Value &Entry : *Arguments) {
      const llvm::json::Array *Pair = Entry.getAsArray();
      std::optional<unsigned> Index =
          Pair && Pair->size() == 2 ? number(*Pair, 0, 255) : std::nullopt;
      if (!Index)
        return fail("an argument is not [index (0-255), value]");
      ArgumentFact &Argument = Call.Arguments.emplace_back();
      Argument.Index = *Index;
      if (std::optional<bool> Value = (*Pair)[1].getAsBoolean())
        Argument.Value = *Value;
      else if (std::optional<unsigned> Parameter = number(*Pair, 1, 255))
        Argument.Parameter = *Parameter;
      else
        return fail("an argument's value is neither a bool nor a parameter "
                    "(0-255)");
    }
    Call.Held.resize(Held->size());
    for (size_t I = 0; I < Held->size(); ++I)
      if (!lockAt((*Held)[I], Call.Held[I]))
        return false;
    return true;
  }

  PackedSummaries &Into;
  const char *Problem = "";
};

/// The summaries with their strings spelled out, for the checks' shapes.
std::vector<FunctionFact> unpack(const PackedSummaries &P) {
  auto Text = [&](uint32_t I) { return P.Strings[I].str(); };
  auto SiteOf = [&](const PackedSite &S) {
    return Site{Text(S.File), S.Line, S.Column};
  };
  std::vector<FunctionFact> Result;
  Result.reserve(P.Functions.size());
  for (const PackedFunction &Packed : P.Functions) {
    FunctionFact &F = Result.emplace_back();
    F.Usr = Text(Packed.Usr);
    F.Name = Text(Packed.Name);
    F.At = SiteOf(Packed.At);
    F.Hash = Packed.Hash.str();
    F.Coroutine = Packed.Coroutine;
    if (const std::optional<PackedBlock> &B = Packed.Blocks)
      F.Blocks = BlockFact{Text(B->Subject), Text(B->Reason), SiteOf(B->At),
                           B->WhenParameter, B->WhenValue};
    for (const PackedLockAt &A : Packed.Acquires)
      F.Acquires.push_back({Text(A.Lock), SiteOf(A.At)});
    for (const PackedCall &C : Packed.Calls) {
      CallFact &Call = F.Calls.emplace_back();
      Call.Usr = Text(C.Usr);
      Call.Name = Text(C.Name);
      Call.At = SiteOf(C.At);
      Call.Arguments = C.Arguments;
      Call.Awaited = C.Awaited;
      for (const PackedLockAt &H : C.Held)
        Call.Held.push_back({Text(H.Lock), SiteOf(H.At)});
    }
  }
  return Result;
}

llvm::Error readVersion3Lines(llvm::StringRef Lines, Facts &F) {
  SummaryReader Reader(F.Packed);
  unsigned Number = 1;
  while (!Lines.empty()) {
    auto [Line, Rest] = Lines.split('\n');
    Lines = Rest;
    ++Number;
    if (Line.trim().empty())
      continue;
    llvm::Expected<llvm::json::Value> V = parseBoundedJson(Line);
    if (!V)
      return malformed("line " + llvm::Twine(Number) + ": " +
                       llvm::toString(V.takeError()));
    if (std::optional<llvm::StringRef> S = V->getAsString())
      Reader.addString(*S);
    else if (!V->getAsArray())
      return malformed("line " + llvm::Twine(Number) +
                       " is neither a string nor a summary");
    else if (!Reader.function(*V))
      return malformed("line " + llvm::Twine(Number) + ": " + Reader.problem());
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<Facts> readFacts(llvm::StringRef Text, SummaryForm Form) {
  // Version 3 is JSON Lines, its first line the header; version 1 is one
  // document, on one line or several.
  auto [First, Lines] = Text.split('\n');
  llvm::Expected<llvm::json::Value> Parsed = parseBoundedJson(First);
  const bool OneDocument = !Parsed;
  if (OneDocument) {
    llvm::consumeError(Parsed.takeError());
    Parsed = parseBoundedJson(Text);
    Lines = "";
  }
  if (!Parsed)
    return malformed(llvm::toString(Parsed.takeError()));
  const llvm::json::Object *Root = Parsed->getAsObject();
  auto Format = Root ? Root->getString("format") : std::nullopt;
  auto Version = Root ? Root->getInteger("version") : std::nullopt;
  Facts F;
  if (Format == "coroscope-lockfacts" && Version == 1)
    F.Version = 1;
  else if (Format == "coroscope-facts" && Version == 3)
    F.Version = 3;
  else if (Format == "coroscope-lockfacts" || Format == "coroscope-facts")
    return malformed(
        "unsupported version (this coroscope reads "
        "coroscope-lockfacts 1 and coroscope-facts 3; run the checks again)");
  else
    return malformed("not a coroscope facts document");
  if (F.Version == 3 && OneDocument)
    return malformed("version 3 is JSON Lines: the header must be the first "
                     "line");
  if (F.Version == 1 && !Lines.trim().empty())
    return malformed("text after the document");
  if (auto Source = Root->getString("source")) {
    if (*Source != "run-time" && *Source != "static")
      return malformed("'source' must be \"static\" or \"run-time\"");
    F.RunTime = *Source == "run-time";
  }
  if (F.Version == 3) {
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
  if (!Inputs)
    return malformed("no 'inputs' array");
  for (const llvm::json::Value &V : *Inputs) {
    const llvm::json::Object *O = V.getAsObject();
    auto File = O ? O->getString("file") : std::nullopt;
    auto Hash = O ? O->getString("hash") : std::nullopt;
    if (!File || !Hash)
      return malformed("an input needs a 'file' and a 'hash'");
    F.Inputs.push_back({File->str(), Hash->str()});
  }
  if (llvm::Error Error = readVersion3Lines(Lines, F))
    return std::move(Error);
  if (Form == SummaryForm::Unpacked) {
    F.Functions = unpack(F.Packed);
    F.Packed = {};
  }
  return F;
}

} // namespace coroscope::lockgraph
