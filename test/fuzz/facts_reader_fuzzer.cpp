// libFuzzer target: the facts reader and the link phase (`coroscope link`)
// on arbitrary bytes. Facts it accepts must build a graph whose cycles can
// be found and described, must link (alone, and twice over, as if two TUs
// summarised the same functions), and must read back unchanged once
// written again.
#include "FactsFile.h"
#include "WholeProgram.h"

#include "llvm/Support/Error.h"
#include <cstdint>
#include <cstdlib>

using namespace coroscope::lockgraph;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<Facts> Read = readFacts(Text);
  if (!Read) {
    llvm::consumeError(Read.takeError());
    return 0;
  }
  Graph G;
  for (const Edge &E : Read->Edges)
    G.add(E);
  for (const Cycle &C : G.cycles()) {
    (void)cycleMessage(C);
    for (const Edge *E : C.Edges)
      (void)describe(*E);
  }
  std::string Written = writeFacts(*Read);
  {
    llvm::Expected<Facts> Packed = readFacts(Text, SummaryForm::Packed);
    if (!Packed) {
      llvm::errs() << "the packed reader rejects what the other accepts: "
                   << llvm::toString(Packed.takeError()) << "\n";
      std::abort();
    }
    coroscope::link::Program P;
    Facts Copy = *Packed;
    Copy.TranslationUnit += ".again";
    P.add(std::move(*Packed));
    P.add(std::move(Copy));
    P.link();
    for (const auto &B : P.blocking())
      (void)B.message();
    (void)P.orders().cycles();
    (void)P.affectedBy({Read->TranslationUnit});
  }
  llvm::Expected<Facts> Again = readFacts(Written);
  if (!Again) {
    llvm::errs() << "the reader rejects what the writer wrote: "
                 << llvm::toString(Again.takeError()) << "\n";
    std::abort();
  }
  if (writeFacts(*Again) != Written) {
    llvm::errs() << "facts do not survive a round trip\n";
    std::abort();
  }
  return 0;
}
