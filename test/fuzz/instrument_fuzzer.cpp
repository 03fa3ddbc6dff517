//===--- instrument_fuzzer.cpp - libFuzzer target for the rewriter --------===//
//
// Each input is a C++20 source file, parsed in-process with a small prelude
// (a task, a generator, an awaitable, <mutex>) forced in front. When it
// parses, its instrumentation must keep the file's lines, strip back to
// exactly what the input strips to (the input itself when it has no
// markers), and parse without errors with the runtime header (unless the
// input itself uses the runtime's names). Stripping the raw input must never crash, and a text it
// strips has no marker left. Any violation traps.
//
//===----------------------------------------------------------------------===//

#include "Instrumenter.h"

#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/FileManager.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/CompilerInvocation.h"
#include "clang/Frontend/FrontendActions.h"
#if CLANG_VERSION_MAJOR >= 22
#include "clang/Driver/CreateInvocationFromArgs.h"
#else
#include "clang/Frontend/Utils.h"
#endif
#include "clang/Lex/Lexer.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace clang;
using namespace coroscope::rewriter;

namespace {

constexpr const char *InputName = "/coroscope-fuzz/input.cpp";

// In a system directory, so the engine treats it as a library: its bodies
// are not parsed and it is never instrumented.
constexpr const char *Prelude = R"(#pragma once
#include <coroutine>
#include <mutex>
namespace fz {
template <typename T = void> struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(T) {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume() { return T(); }
};
template <> struct task<void> {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
template <typename T> struct generator {
  struct promise_type {
    generator get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(T) noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
struct ready {
  int v = 0;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return v; }
};
inline task<int> value(int v) { co_return v; }
} // namespace fz
using fz::generator;
using fz::ready;
using fz::task;
using fz::value;
)";

struct Setup {
  std::string Dir;
  /// How the input is parsed, and how its instrumented text is: computed
  /// once by the driver, which is slow (it looks for the GCC installation).
  std::shared_ptr<CompilerInvocation> Original, Instrumented;
};

Setup &setup() {
  static Setup S;
  return S;
}

void trapWith(const char *What) {
  llvm::errs() << "instrument_fuzzer: " << What << "\n";
  __builtin_trap();
}

void write(const std::string &Path, llvm::StringRef Text) {
  std::error_code EC;
  llvm::raw_fd_ostream Out(Path, EC);
  Out << Text;
  if (EC)
    trapWith("cannot write the setup files");
}

/// \p Args with InputName as the file to check, or alone when \p Check is
/// false.
std::shared_ptr<CompilerInvocation>
invocation(const std::vector<std::string> &Args, bool Check = true) {
  llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> Overlay(
      new llvm::vfs::OverlayFileSystem(llvm::vfs::getRealFileSystem()));
  llvm::IntrusiveRefCntPtr<llvm::vfs::InMemoryFileSystem> Memory(
      new llvm::vfs::InMemoryFileSystem);
  Overlay->pushOverlay(Memory);
  Memory->addFile(InputName, 0, llvm::MemoryBuffer::getMemBuffer(""));
  std::vector<const char *> Argv = {"clang++"};
  for (const std::string &Arg : Args)
    Argv.push_back(Arg.c_str());
  if (Check)
    Argv.insert(Argv.end(), {"-fsyntax-only", InputName});
  CreateInvocationOptions Opts;
  Opts.VFS = Overlay;
  std::shared_ptr<CompilerInvocation> Invocation =
      createInvocation(Argv, std::move(Opts));
  if (!Invocation)
    trapWith("the driver rejects the fuzzer's flags");
  // The driver asks the compiler to leak its state at exit; run after run,
  // that would be a leak.
  Invocation->getFrontendOpts().DisableFree = false;
  return Invocation;
}

/// Runs \p Action on \p Code as InputName with \p Base's flags; true when
/// it ran without errors. Diagnostics are dropped: only whether there were
/// errors matters.
bool run(FrontendAction &Action, llvm::StringRef Code,
         const CompilerInvocation &Base) {
  auto Invocation = std::make_shared<CompilerInvocation>(Base);
  Invocation->getPreprocessorOpts().addRemappedFile(
      InputName,
      llvm::MemoryBuffer::getMemBufferCopy(Code, InputName).release());
#if CLANG_VERSION_MAJOR >= 22
  CompilerInstance Compiler(Invocation);
  Compiler.createVirtualFileSystem();
#else
  CompilerInstance Compiler;
  Compiler.setInvocation(Invocation);
#endif
  Compiler.createDiagnostics(new IgnoringDiagConsumer,
                             /*ShouldOwnClient=*/true);
  // The ignoring consumer counts nothing: ask the engine, which does.
  return Compiler.ExecuteAction(Action) &&
         !Compiler.getDiagnostics().hasErrorOccurred();
}

/// Calls \p Found for each token (comments included) of \p Text.
template <typename Callback>
void forEachToken(llvm::StringRef Text, Callback Found) {
  std::string Copy = Text.str(); // the lexer reads the terminating NUL
  LangOptions LO;
  LO.CPlusPlus = LO.CPlusPlus11 = LO.CPlusPlus14 = LO.CPlusPlus17 =
      LO.CPlusPlus20 = LO.LineComment = LO.Digraphs = true;
  Lexer Raw(SourceLocation(), LO, Copy.data(), Copy.data(),
            Copy.data() + Copy.size());
  Raw.SetCommentRetentionState(true);
  Token Tok;
  while (true) {
    bool AtEnd = Raw.LexFromRawLexer(Tok);
    Found(Tok, llvm::StringRef(Raw.getBufferLocation() - Tok.getLength(),
                               Tok.getLength()));
    if (AtEnd)
      return;
  }
}

bool hasMarkerToken(llvm::StringRef Text) {
  bool Found = false;
  forEachToken(Text, [&](const Token &Tok, llvm::StringRef Spelling) {
    Found |= Tok.is(tok::comment) &&
             (Spelling == OpenMarker || Spelling == CloseMarker);
  });
  return Found;
}

/// True when \p Text names something of the runtime's (COROSCOPE_*,
/// coroscope_*, namespace coroscope): the instrumented text includes the
/// runtime, so a user's COROSCOPE_I_RETURN of their own cannot compile.
bool usesRuntimeNames(llvm::StringRef Text) {
  bool Found = false;
  forEachToken(Text, [&](const Token &Tok, llvm::StringRef Spelling) {
    Found |=
        Tok.is(tok::raw_identifier) && (Spelling.starts_with("COROSCOPE") ||
                                        Spelling.starts_with("coroscope"));
  });
  return Found;
}

void removeSetup() {
  if (!setup().Dir.empty())
    llvm::sys::fs::remove_directories(setup().Dir);
}

/// Precompiles \p Includes (each `#include <...>`) into Dir/<Name>.pch. The
/// includes come from a wrapper header, so a system header stays one.
std::string precompile(const std::string &Name, llvm::StringRef Includes,
                       std::vector<std::string> Flags) {
  std::string Header = setup().Dir + "/" + Name + ".h",
              Pch = setup().Dir + "/" + Name + ".pch";
  write(Header, Includes);
  Flags.insert(Flags.end(), {"-x", "c++-header", Header, "-o", Pch});
  std::shared_ptr<CompilerInvocation> Invocation =
      invocation(Flags, /*Check=*/false);
  Invocation->getFrontendOpts().OutputFile = Pch;
  GeneratePCHAction Action;
  if (!run(Action, "", *Invocation))
    trapWith("cannot precompile the prelude and the runtime header");
  return Pch;
}

} // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t *Data, size_t Size, size_t MaxSize);

// Byte mutations rarely make new C++ that parses; half of the mutations
// insert a piece of coroutine code or of the engine's own syntax instead.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *Data, size_t Size,
                                          size_t MaxSize, unsigned Seed) {
  // clang-format off
  static const char *const Pieces[] = {
      "co_await ", "co_yield ", "co_return ", "co_await co_await ",
      "co_yield co_await ", "value(1)", "ready{}", "(", ")", "{", "}", "<%",
      "%>", "<:", ":>", "%:", ",", "?", ":", ";", "/", "\\\n", "\n", "//",
      "/*", "*/", "\"", "R\"(", ")\"", "'", "\xEF\xBB\xBF",
      "#define AW(x) co_await x\n", "AW(", "#if 0\n", "#endif\n",
      "[&]() -> task<int> { co_return co_await value(1); }()",
      "task<int> f() { ", "generator<int> g() { ", "template <typename T> ",
      "try ", "catch (...) {}", "if (", "while (", "for (int i : ",
      "switch (", "auto [a, b] = ", "/*coroscope:*/", "/*:coroscope*/",
      "COROSCOPE_I_RETURN ", "(COROSCOPE_I_AT(1), ",
      "COROSCOPE_I_END } COROSCOPE_CATCH",
      "#include <coroscope/coroscope.hpp>\n#line 1\n"};
  // clang-format on
  std::minstd_rand Random(Seed);
  if (Random() % 2 == 0)
    return LLVMFuzzerMutate(Data, Size, MaxSize);
  const char *Piece = Pieces[Random() % std::size(Pieces)];
  size_t Length = std::strlen(Piece), At = Random() % (Size + 1);
  // Replace up to a few bytes, or insert.
  size_t Drop = std::min<size_t>(Random() % 4, Size - At);
  if (Size - Drop + Length > MaxSize)
    return LLVMFuzzerMutate(Data, Size, MaxSize);
  std::memmove(Data + At + Length, Data + At + Drop, Size - At - Drop);
  std::memcpy(Data + At, Piece, Length);
  return Size - Drop + Length;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  Setup &S = setup();
  llvm::SmallString<128> Dir;
  if (llvm::sys::fs::createUniqueDirectory("coroscope-fuzz", Dir))
    trapWith("cannot create a temporary directory");
  S.Dir = std::string(Dir);
  std::atexit(removeSetup);
  std::string SystemDir = S.Dir + "/sys";
  llvm::sys::fs::create_directories(SystemDir);
  write(SystemDir + "/fuzz_prelude.h", Prelude);
  // Clang 19's typo correction crashes on some malformed inputs
  // (Sema::CorrectDelayedTyposInExpr; clang++-19 crashes the same way on
  // the seed clang19-typo-correction-crash, with or without coroscope).
  // That is clang's bug, not the rewriter's: spell checking is off.
  std::vector<std::string> Flags = {"-std=c++20",
                                    "-fno-spell-checking",
                                    "-resource-dir",
                                    COROSCOPE_CLANG_RESOURCE_DIR,
                                    "-isystem",
                                    SystemDir,
                                    "-I",
                                    COROSCOPE_RUNTIME_INCLUDE};
  // Parsing the runtime header takes a second, the prelude's <coroutine>
  // tens of milliseconds; precompiled, each run costs far less.
  std::vector<std::string> Original = Flags, Instrumented = Flags;
  Original.insert(
      Original.end(),
      {"-include-pch",
       precompile("prelude", "#include <fuzz_prelude.h>\n", Flags)});
  Instrumented.insert(
      Instrumented.end(),
      {"-include-pch", precompile("instrumented",
                                  "#include <fuzz_prelude.h>\n#include "
                                  "<coroscope/coroscope.hpp>\n",
                                  Flags)});
  S.Original = invocation(Original);
  S.Instrumented = invocation(Instrumented);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Input(reinterpret_cast<const char *>(Data), Size);

  std::string Error;
  std::optional<std::string> Stripped = stripInstrumentation(Input, Error);
  if (Stripped && hasMarkerToken(*Stripped))
    trapWith("strip left a marker");
  if (!Stripped && (Error.empty() || llvm::StringRef(Error).contains('\n')))
    trapWith("strip failed without a one-line error");

  Setup &S = setup();
  EditSet Edits;
  Options Opts;
  bool Parsed = false;
  InstrumentAction Instrument(Opts, Edits, Parsed);
  run(Instrument, Input, *S.Original);
  if (!Parsed)
    return 0;
  auto Main = Edits.find(InputName);
  if (Main == Edits.end() || Main->second.Edits.empty())
    return 0;
  const FileEdits &File = Main->second;

  std::vector<Insertion> Flat = flatten(File);
  if (Flat.size() != File.Insertions.size())
    trapWith("Insertions is not the flat form of the edits");
  for (size_t I = 0; I < Flat.size(); ++I) {
    const Insertion &A = Flat[I], &B = File.Insertions[I];
    if (A.Offset != B.Offset || A.Order != B.Order || A.Text != B.Text)
      trapWith("Insertions is not the flat form of the edits");
    if (I && !(Flat[I - 1] < A))
      trapWith("the flat insertions are not in their sorted order");
    bool IsPrefix = A.Text == (OpenMarker + PrefixText + CloseMarker).str();
    if (!IsPrefix && llvm::StringRef(A.Text).contains('\n'))
      trapWith("an insertion moves a token to another line");
  }

  std::string Instrumented = applyEdits(Input, File);
  std::optional<std::string> Back = stripInstrumentation(Instrumented, Error);
  if (Stripped && (!Back || *Back != *Stripped)) {
    llvm::errs() << "strip error: " << Error << "\n";
    trapWith("strip(instrument(x)) differs from strip(x)");
  }

  if (usesRuntimeNames(Stripped ? *Stripped : Input.str()))
    return 0;
  SyntaxOnlyAction Check;
  if (!run(Check, Instrumented, *S.Instrumented)) {
    // The engine's parse makes no template instantiation; an error in one
    // is the input's, not the instrumentation's.
    SyntaxOnlyAction Full;
    if (!run(Full, Input, *S.Original))
      return 0;
    llvm::errs() << "---- instrumented text\n" << Instrumented << "\n----\n";
    trapWith("the instrumented text does not parse");
  }
  return 0;
}
