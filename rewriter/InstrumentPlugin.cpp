//===--- InstrumentPlugin.cpp - clang -fplugin=libcoroscope-instrument.so -===//
//
// Instruments a translation unit while it compiles, with no source change.
// Two engines:
//   - ir (the default): one parse; an AST consumer fills the site table
//     (CoroutineSiteTable.h) and an IR pass adds the hooks around the real
//     suspensions before CoroSplit (SuspensionHooksPass.h);
//   - source (-fplugin-arg-coroscope-engine=source): a first, cheap parse
//     finds the edits (the same engine as `coroscope instrument`), which then
//     replace the files' contents in the compiler's own source manager before
//     the real parse starts; IR passes then report where coroutines are
//     created and those destroyed before they started.
// The plugin never breaks a build: whatever goes wrong, the file compiles
// unchanged, with one warning.
//
// Arguments: -fplugin-arg-coroscope-off, -fplugin-arg-coroscope-verbose,
// -fplugin-arg-coroscope-engine=ir|source,
// -fplugin-arg-coroscope-header-filter=REGEX,
// -fplugin-arg-coroscope-library-namespaces=NS;NS...,
// -fplugin-arg-coroscope-library-paths=REGEX,
// -fplugin-arg-coroscope-runtime-include=DIR.
//
//===----------------------------------------------------------------------===//

#include "Instrumenter.h"
#include "CreationPass.h"
#include "LockHooksPass.h"
#include "LockSiteTable.h"
#include "NeverStartedPass.h"
#include "ReadySitesRegistration.h"
#include "SuspensionHooksPass.h"
#include "llvm/Passes/PassBuilder.h"

#include "clang/Basic/CodeGenOptions.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Frontend/MultiplexConsumer.h"
#include "clang/Lex/HeaderSearch.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <dlfcn.h>
#include <set>

using namespace clang;

namespace coroscope::rewriter {
namespace {

/// The IR passes, at the start of every optimization pipeline, -O0
/// included: before CoroSplit, which they rely on.
void registerIRPasses(llvm::PassBuilder &PB) {
  PB.registerPipelineStartEPCallback(
      [](llvm::ModulePassManager &MPM, llvm::OptimizationLevel) {
        llvm::FunctionPassManager FPM;
        FPM.addPass(coroscope::rewriter::CreationPass());
        FPM.addPass(coroscope::rewriter::NeverStartedPass());
        MPM.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(FPM)));
      });
}


void warn(StringRef File, const Twine &Message) {
  // Printed directly, not as a diagnostic, so -Werror cannot turn it into an
  // error that fails the build.
  llvm::errs() << File << ": warning: coroscope: " << Message << "\n";
}

bool hasRuntimeHeader(StringRef Dir) {
  llvm::SmallString<256> Path(Dir);
  llvm::sys::path::append(Path, "coroscope", "coroscope.hpp");
  return !Dir.empty() && llvm::sys::fs::exists(Path);
}

/// The runtime's include directory: next to an installed plugin
/// (<prefix>/lib/.. /include), else the source tree it was built from.
std::string findRuntimeInclude() {
  Dl_info Info;
  if (dladdr(reinterpret_cast<void *>(&findRuntimeInclude), &Info) &&
      Info.dli_fname) {
    llvm::SmallString<256> Dir(Info.dli_fname);
    llvm::sys::path::remove_filename(Dir);
    llvm::sys::path::append(Dir, "..", "include");
    if (hasRuntimeHeader(Dir))
      return std::string(Dir);
  }
  return hasRuntimeHeader(COROSCOPE_RUNTIME_SOURCE_INCLUDE)
             ? COROSCOPE_RUNTIME_SOURCE_INCLUDE
             : "";
}

/// The `#include` operands of \p Text: "name" or <name>. An include through a
/// macro yields an empty name, which the caller must treat as unknown.
std::vector<std::pair<std::string, bool>> includesOf(StringRef Text) {
  std::vector<std::pair<std::string, bool>> Found;
  while (!Text.empty()) {
    auto [Line, Rest] = Text.split('\n');
    Text = Rest;
    Line = Line.ltrim();
    if (!Line.consume_front("#"))
      continue;
    Line = Line.ltrim();
    if (!Line.consume_front("include_next") && !Line.consume_front("include") &&
        !Line.consume_front("import"))
      continue;
    Line = Line.ltrim();
    char Close = Line.starts_with("<") ? '>' : Line.starts_with("\"") ? '"' : 0;
    size_t End = Close ? Line.find(Close, 1) : StringRef::npos;
    if (End == StringRef::npos)
      Found.push_back({"", false});
    else
      Found.push_back({Line.substr(1, End - 1).str(), Close == '"'});
  }
  return Found;
}

/// True unless no project file this translation unit can reach mentions a
/// coroutine keyword. Project headers are those found in -I/-iquote
/// directories; system directories are never read. Cheap: raw text only.
bool mayHaveCoroutines(CompilerInstance &CI, StringRef MainText,
                       StringRef MainPath) {
  std::vector<std::string> Dirs;
  for (const auto &Entry : CI.getHeaderSearchOpts().UserEntries)
    if ((Entry.Group == frontend::Quoted || Entry.Group == frontend::Angled) &&
        !Entry.IsFramework)
      Dirs.push_back(Entry.Path);
  std::set<std::string> Seen;
  std::vector<std::pair<std::string, std::string>> Work; // path, text
  Work.push_back({MainPath.str(), MainText.str()});
  for (const std::string &Forced : CI.getPreprocessorOpts().Includes)
    if (auto Buffer = llvm::MemoryBuffer::getFile(Forced))
      Work.push_back({Forced, (*Buffer)->getBuffer().str()});
  while (!Work.empty()) {
    auto [Path, Text] = std::move(Work.back());
    Work.pop_back();
    if (mentionsCoroutineKeyword(Text))
      return true;
    for (const auto &[Name, Quoted] : includesOf(Text)) {
      if (Name.empty())
        return true;
      std::vector<std::string> Candidates;
      if (Quoted)
        Candidates.push_back(
            (llvm::sys::path::parent_path(Path) + "/" + Name).str());
      for (const std::string &Dir : Dirs)
        Candidates.push_back(Dir + "/" + Name);
      for (const std::string &Candidate : Candidates) {
        llvm::SmallString<256> Real;
        if (llvm::sys::fs::real_path(Candidate, Real))
          continue;
        if (Seen.insert(std::string(Real)).second)
          if (auto Buffer = llvm::MemoryBuffer::getFile(Real))
            Work.push_back({std::string(Real), (*Buffer)->getBuffer().str()});
        break;
      }
    }
  }
  return false;
}

/// mayHaveCoroutines for the translation unit's main file.
bool mainMayHaveCoroutines(CompilerInstance &CI) {
  SourceManager &SM = CI.getSourceManager();
  OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID());
  std::optional<llvm::MemoryBufferRef> MainBuffer =
      SM.getBufferOrNone(SM.getMainFileID());
  return Main && MainBuffer &&
         mayHaveCoroutines(CI, MainBuffer->getBuffer(), Main->getName());
}

/// The main file names a mutex or a guard (LockSiteTable.h).
bool mainMentionsLocks(CompilerInstance &CI) {
  std::optional<llvm::MemoryBufferRef> MainBuffer =
      CI.getSourceManager().getBufferOrNone(
          CI.getSourceManager().getMainFileID());
  return MainBuffer && mentionsLocks(MainBuffer->getBuffer());
}

class InstrumentPluginAction : public PluginASTAction {
protected:
  bool ParseArgs(const CompilerInstance &,
                 const std::vector<std::string> &Args) override {
    for (StringRef Arg : Args) {
      if (Arg == "off")
        Off = true;
      else if (Arg == "verbose")
        Verbose = true;
      else if (Arg == "engine=ir")
        UseIREngine = true;
      else if (Arg == "engine=source")
        UseIREngine = false;
      else if (Arg.consume_front("header-filter="))
        Opts.HeaderFilter = Arg.str();
      else if (Arg.consume_front("library-namespaces="))
        Opts.LibraryNamespaces = Arg.str();
      else if (Arg.consume_front("library-paths="))
        Opts.LibraryPaths = Arg.str();
      else if (Arg.consume_front("runtime-include="))
        RuntimeInclude = Arg.str();
      else
        warn("coroscope", "unknown plugin argument '" + Arg + "'; ignored");
    }
    std::string Error;
    if (!llvm::Regex(Opts.HeaderFilter).isValid(Error)) {
      warn("coroscope", "invalid header-filter '" + Opts.HeaderFilter +
                            "': " + Error + "; instrumenting no header");
      Opts.HeaderFilter = "^$";
    }
    if (std::optional<std::string> Problem =
            LibraryBoundary(Opts.LibraryNamespaces, Opts.LibraryPaths)
                .error()) {
      warn("coroscope", *Problem + "; using the default library boundary");
      Opts.LibraryNamespaces = DefaultLibraryNamespaces.str();
      Opts.LibraryPaths = DefaultLibraryPaths.str();
    }
    return true;
  }

  ActionType getActionType() override { return AddBeforeMainAction; }

  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 StringRef InFile) override {
    // The first parse runs in this process, where this plugin is registered
    // too: it must not instrument that parse again.
    static thread_local bool Nested = false;
    if (!Off && !Nested && UseIREngine) {
      // As cheap as the source engine's for a file with no coroutine: no
      // location tracking, no walk of the AST.
      bool Coroutines = mainMayHaveCoroutines(CI);
      bool Locks = mainMentionsLocks(CI);
      if (!Coroutines && !Locks)
        return std::make_unique<ASTConsumer>();
      return useIREngine(CI, InFile, Coroutines, Locks);
    }
    if (!Off && !Nested) {
      Nested = true;
      instrument(CI, InFile);
      Nested = false;
      // No-ops in a file left unchanged: they look for the source hooks.
      CI.getCodeGenOpts().PassBuilderCallbacks.push_back(registerIRPasses);
    }
    return std::make_unique<ASTConsumer>();
  }

private:
  void instrument(CompilerInstance &CI, StringRef InFile);
  std::unique_ptr<ASTConsumer> useIREngine(CompilerInstance &CI,
                                           StringRef InFile, bool Coroutines,
                                           bool Locks);
  bool findEdits(CompilerInstance &CI, StringRef InFile, EditSet &Edits);

  Options Opts;
  bool Off = false;
  bool Verbose = false;
  bool UseIREngine = true;
  std::string RuntimeInclude;
};

/// One parse: the site table is filled before code generation, and the pass
/// reads it. Clang gives each suspension the location of its keyword when
/// it tracks locations, which -g or, without it, location tracking alone
/// (what -Rpass uses: no debug information in the output) turns on.
std::unique_ptr<ASTConsumer>
InstrumentPluginAction::useIREngine(CompilerInstance &CI, StringRef InFile,
                                    bool Coroutines, bool Locks) {
  auto Table = std::make_shared<CoroutineSiteTable>();
  auto LockTable = std::make_shared<LockSiteTable>();
  CodeGenOptions &CodeGen = CI.getCodeGenOpts();
  if (CodeGen.getDebugInfo() == llvm::codegenoptions::NoDebugInfo)
    CodeGen.setDebugInfo(llvm::codegenoptions::LocTrackingOnly);
  bool Verbose = this->Verbose;
  CodeGen.PassBuilderCallbacks.push_back(
      [Table, LockTable, Verbose](llvm::PassBuilder &PB) {
        PB.registerPipelineStartEPCallback(
            [Table, LockTable, Verbose](llvm::ModulePassManager &MPM,
                                        llvm::OptimizationLevel) {
              llvm::FunctionPassManager FPM;
              FPM.addPass(LockHooksPass(LockTable, Verbose));
              FPM.addPass(SuspensionHooksPass(Table, Verbose));
              MPM.addPass(
                  llvm::createModuleToFunctionPassAdaptor(std::move(FPM)));
              MPM.addPass(ReadySitesRegistration());
            });
      });
  std::vector<std::unique_ptr<ASTConsumer>> Consumers;
  if (Locks)
    Consumers.push_back(makeLockSiteConsumer(InFile, Opts, LockTable));
  if (Coroutines)
    Consumers.push_back(makeCoroutineSiteConsumer(InFile, Opts, Table));
  return std::make_unique<MultiplexConsumer>(std::move(Consumers));
}

bool InstrumentPluginAction::findEdits(CompilerInstance &CI, StringRef InFile,
                                       EditSet &Edits) {
  auto Invocation = std::make_shared<CompilerInvocation>(CI.getInvocation());
  FrontendOptions &Frontend = Invocation->getFrontendOpts();
  Frontend.ProgramAction = frontend::ParseSyntaxOnly;
  Frontend.Plugins.clear();
  Frontend.AddPluginActions.clear();
  Frontend.PluginArgs.clear();
  Frontend.OutputFile.clear();
  Invocation->getHeaderSearchOpts().Verbose = false;
  Invocation->getDependencyOutputOpts().OutputFile.clear();
  Invocation->getDependencyOutputOpts().HeaderIncludeOutputFile.clear();
#if CLANG_VERSION_MAJOR >= 22
  CompilerInstance Parse(Invocation);
  Parse.createVirtualFileSystem();
#else
  CompilerInstance Parse;
  Parse.setInvocation(Invocation);
#endif
  Parse.createDiagnostics(new IgnoringDiagConsumer, /*ShouldOwnClient=*/true);
  bool Succeeded = false;
  InstrumentAction Action(Opts, Edits, Succeeded);
  llvm::CrashRecoveryContext Recovery;
  if (!Recovery.RunSafely([&] { Parse.ExecuteAction(Action); })) {
    warn(InFile, "the instrumentation pass crashed; compiling the file "
                 "unchanged");
    return false;
  }
  // A file with errors is compiled unchanged; the compile reports them.
  return Succeeded;
}

void InstrumentPluginAction::instrument(CompilerInstance &CI,
                                        StringRef InFile) {
  SourceManager &SM = CI.getSourceManager();
  FileManager &FM = CI.getFileManager();
  OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID());
  if (!Main || !mainMayHaveCoroutines(CI))
    return;

  std::string Include =
      RuntimeInclude.empty() ? findRuntimeInclude() : RuntimeInclude;
  OptionalDirectoryEntryRef IncludeDir =
      hasRuntimeHeader(Include) ? FM.getOptionalDirectoryRef(Include)
                                : std::nullopt;
  if (!IncludeDir) {
    warn(InFile, "cannot find <coroscope/coroscope.hpp> (pass "
                 "-fplugin-arg-coroscope-runtime-include=DIR); compiling the "
                 "file unchanged");
    return;
  }

  EditSet Edits;
  if (!findEdits(CI, InFile, Edits))
    return;

  // All files or none: a header rewritten without the runtime's include
  // directory, or without the coroutines that use its macros, would not
  // compile.
  std::vector<std::pair<FileEntryRef, std::string>> Rewritten;
  for (const auto &[Path, File] : Edits) {
    if (Verbose)
      llvm::errs() << "coroscope: " << summarize(File) << "\n";
    if (File.Insertions.empty())
      continue;
    auto Entry = FM.getFileRef(Path);
    auto Original = llvm::MemoryBuffer::getFile(Path);
    if (!Entry || !Original) {
      if (!Entry)
        llvm::consumeError(Entry.takeError());
      warn(InFile, "cannot read '" + Path + "'; compiling the file unchanged");
      return;
    }
    StringRef Text = (*Original)->getBuffer();
    std::string New = applyEdits(Text, File);
    // A last check that the edits are what strip takes back; it can only be
    // made when the file has no marker of its own.
    std::string Error;
    std::optional<std::string> Clean = stripInstrumentation(Text, Error);
    std::optional<std::string> Back =
        Clean ? stripInstrumentation(New, Error) : std::nullopt;
    if (Clean && (!Back || *Back != *Clean)) {
      warn(InFile, "the instrumentation of '" + Path +
                       "' does not strip back; compiling the file unchanged");
      return;
    }
    Rewritten.emplace_back(*Entry, std::move(New));
  }
  bool MainEdited = false;
  for (auto &[Entry, Text] : Rewritten) {
    SM.overrideFileContents(
        Entry, llvm::MemoryBuffer::getMemBufferCopy(Text, Entry.getName()));
    MainEdited |= &Entry.getFileEntry() == &Main->getFileEntry();
  }
  // The main file's entry was sized from the file on disk before plugins
  // run; a new one takes the size of the rewritten text.
  if (MainEdited)
    SM.setMainFileID(SM.createFileID(*Main, SourceLocation(), SrcMgr::C_User));
  CI.getPreprocessor().getHeaderSearchInfo().AddSystemSearchPath(
      DirectoryLookup(*IncludeDir, SrcMgr::C_System, /*isFramework=*/false));
}

} // namespace
} // namespace coroscope::rewriter

// A build that uses the plugin records -fplugin= in compile_commands.json,
// and clang-tidy's static analyzer loads every such plugin as a checker
// plugin. Declaring this API version makes the plugin an accepted one with
// no checkers, instead of a "not compatible" warning in every tidy run.
extern "C" LLVM_ATTRIBUTE_VISIBILITY_DEFAULT const char
    clang_analyzerAPIVersionString[] = CLANG_VERSION_STRING;

static clang::FrontendPluginRegistry::Add<
    coroscope::rewriter::InstrumentPluginAction>
    Registration("coroscope",
                 "instrument coroutines for the coroscope runtime");
