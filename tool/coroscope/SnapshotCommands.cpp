//===- SnapshotCommands.cpp - coroscope ps, pstree and top ----------------===//
//
// Each reads another process's registry from outside (RegistryReader.h):
// the process is never stopped, signalled or written.
//
//===----------------------------------------------------------------------===//

#include "AwaitTree.h"
#include "CommandLine.h"
#include "Commands.h"
#include "RegistryReader.h"
#include "SnapshotViews.h"
#include "TopScreen.h"

#include "llvm/ADT/StringExtras.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace coroscope::tool {
namespace {

struct SnapshotOptions {
  int Pid = 0;
  std::string Core, Exe;
  ReadOptions Read;
  std::string Format = "table", Sort, Filter, Output;
  unsigned Snapshots = 1;
  unsigned Iterations = 0; // top: 0 runs until the target ends
};

int usageError(const std::string &Command, const std::string &Message) {
  std::fprintf(stderr, "coroscope %s: error: %s\n", Command.c_str(),
               Message.c_str());
  return 2;
}

bool parseCount(const std::string &Text, unsigned Min, unsigned Max,
                unsigned &Value) {
  unsigned long long Parsed;
  if (llvm::getAsUnsignedInteger(Text, 10, Parsed) || Parsed < Min ||
      Parsed > Max)
    return false;
  Value = static_cast<unsigned>(Parsed);
  return true;
}

/// "" when the arguments parse, else the error.
std::string parse(const std::string &Command,
                  const std::vector<std::string> &Args,
                  SnapshotOptions &Options) {
  std::string Error;
  for (size_t I = 0; I < Args.size() && Error.empty(); ++I) {
    const std::string &Arg = Args[I];
    unsigned Count = 0;
    if (auto V = optionValue(Args, I, "--core", "a core file", Error)) {
      Options.Core = *V;
    } else if (auto V = optionValue(Args, I, "--exe", "an executable", Error)) {
      Options.Exe = *V;
    } else if (auto V = optionValue(Args, I, "--retries", "a count", Error)) {
      if (Error.empty() && !parseCount(*V, 0, 1000, Options.Read.Retries))
        Error = "--retries takes a count from 0 to 1000, not '" + *V + "'";
    } else if (auto V = optionValue(Args, I, "--limit", "a count", Error)) {
      if (Error.empty() && !parseCount(*V, 1, 100'000'000, Count))
        Error = "--limit takes a count from 1, not '" + *V + "'";
      Options.Read.Limit = Count;
    } else if (auto V = optionValue(Args, I, "--format", "a format", Error)) {
      Options.Format = *V;
      if (Error.empty() && Command == "ps" && *V != "table" && *V != "json" &&
          *V != "csv")
        Error = "--format is table, json or csv, not '" + *V + "'";
      else if (Error.empty() && Command != "ps")
        Error = "--format is an option of 'coroscope ps'";
    } else if (auto V = optionValue(Args, I, "--sort", "a key", Error)) {
      Options.Sort = *V;
    } else if (auto V = optionValue(Args, I, "--filter", "a pattern", Error)) {
      Options.Filter = *V;
    } else if (auto V = optionValue(Args, I, "-o", "a file name", Error)) {
      Options.Output = *V;
    } else if (auto V = optionValue(Args, I, "--snapshots", "a count", Error)) {
      if (Error.empty() && !parseCount(*V, 1, 1'000'000, Options.Snapshots))
        Error = "--snapshots takes a count from 1, not '" + *V + "'";
    } else if (auto V =
                   optionValue(Args, I, "--iterations", "a count", Error)) {
      if (Error.empty() && !parseCount(*V, 1, 1'000'000, Options.Iterations))
        Error = "--iterations takes a count from 1, not '" + *V + "'";
    } else if (!Arg.empty() && Arg[0] == '-') {
      Error = "unknown option '" + Arg + "'; run 'coroscope --help'";
    } else if (Options.Pid != 0) {
      Error = "one process at a time: '" + Arg + "' after " +
              std::to_string(Options.Pid);
    } else {
      unsigned Pid = 0;
      if (!parseCount(Arg, 1, 1u << 30, Pid))
        Error = "'" + Arg + "' is not a process id";
      Options.Pid = static_cast<int>(Pid);
    }
  }
  if (!Error.empty())
    return Error;
  if (!Options.Core.empty() || !Options.Exe.empty()) {
    if (Options.Core.empty() || Options.Exe.empty())
      return "a core dump is read with both --core FILE and --exe BINARY";
    if (Options.Pid != 0)
      return "give a process id or --core, not both";
    if (Command == "top")
      return "top watches a live process; use 'coroscope ps --core' for a "
             "core dump";
  } else if (Options.Pid == 0) {
    return "no process given: coroscope " + Command +
           " PID (or --core FILE --exe BINARY)";
  }
  return "";
}

llvm::Expected<std::unique_ptr<TargetMemory>>
openTarget(const SnapshotOptions &Options) {
  if (!Options.Core.empty())
    return openCoreFile(Options.Core, Options.Exe);
  return openLiveProcess(Options.Pid);
}

void printWarnings(const std::string &Command, const Snapshot &S) {
  for (const std::string &Line : snapshotWarnings(S))
    std::fprintf(stderr, "coroscope %s: warning: %s\n", Command.c_str(),
                 Line.c_str());
}

int emit(const std::string &Output, const std::string &Text) {
  std::string Error = writeOutput(Output, Text);
  if (Error.empty())
    return 0;
  std::fprintf(stderr, "coroscope: error: %s\n", Error.c_str());
  return 2;
}

// --- top -------------------------------------------------------------------

/// The terminal in raw mode while it lives.
class RawTerminal {
public:
  RawTerminal() {
    if (::tcgetattr(STDIN_FILENO, &Saved) != 0)
      return;
    termios Raw = Saved;
    Raw.c_lflag &= ~(ICANON | ECHO);
    Raw.c_cc[VMIN] = 0;
    Raw.c_cc[VTIME] = 0;
    Active = ::tcsetattr(STDIN_FILENO, TCSANOW, &Raw) == 0;
    std::fputs("\x1b[?25l", stdout); // hide the cursor
  }
  ~RawTerminal() {
    std::fputs("\x1b[?25h\n", stdout);
    std::fflush(stdout);
    if (Active)
      ::tcsetattr(STDIN_FILENO, TCSANOW, &Saved);
  }

private:
  termios Saved{};
  bool Active = false;
};

int runTop(const SnapshotOptions &Options, TargetMemory &Memory) {
  static const char *const SortKeys[] = {"count", "waiting", "running", "hangs",
                                         "name"};
  std::string Sort = Options.Sort.empty() ? "count" : Options.Sort;
  if (llvm::find(SortKeys, Sort) == std::end(SortKeys))
    return usageError("top", "--sort is count, waiting, running, hangs or "
                             "name, not '" +
                                 Sort + "'");
  std::string Filter = Options.Filter;
  bool Interactive = ::isatty(STDOUT_FILENO) && ::isatty(STDIN_FILENO);
  std::optional<RawTerminal> Terminal;
  if (Interactive)
    Terminal.emplace();
  std::string Typing; // the filter being typed after '/'
  bool Editing = false;
  for (unsigned Round = 0;
       Options.Iterations == 0 || Round < Options.Iterations; ++Round) {
    auto S = readSnapshot(Memory, Options.Read);
    if (!S) {
      std::string Message = llvm::toString(S.takeError());
      if (::kill(Options.Pid, 0) != 0 && errno == ESRCH) {
        std::printf("%s has exited\n", Memory.describe().c_str());
        return 0;
      }
      std::fprintf(stderr, "coroscope top: error: %s\n", Message.c_str());
      return 2;
    }
    if (Interactive) {
      winsize Size{};
      ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &Size);
      std::string Screen =
          renderTop(*S, Sort, Filter, Size.ws_col, Size.ws_row);
      if (Editing)
        Screen += "filter: " + Typing;
      std::fputs("\x1b[H\x1b[2J", stdout);
      std::fputs(Screen.c_str(), stdout);
      std::fflush(stdout);
    } else {
      std::fputs(renderTop(*S, Sort, Filter, 0, 0).c_str(), stdout);
      std::fputs("\n", stdout);
      std::fflush(stdout);
    }
    if (Options.Iterations != 0 && Round + 1 == Options.Iterations)
      break;
    // Wait a second, or for a key.
    auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    bool Redraw = false;
    while (!Redraw && std::chrono::steady_clock::now() < Deadline) {
      if (!Interactive) {
        std::this_thread::sleep_until(Deadline);
        break;
      }
      pollfd Input{STDIN_FILENO, POLLIN, 0};
      auto Left = std::chrono::duration_cast<std::chrono::milliseconds>(
          Deadline - std::chrono::steady_clock::now());
      if (::poll(&Input, 1,
                 static_cast<int>(std::max<long>(Left.count(), 0))) <= 0)
        continue;
      char Key;
      if (::read(STDIN_FILENO, &Key, 1) != 1)
        return 0; // input closed
      Redraw = true;
      if (Editing) {
        if (Key == '\n' || Key == '\r') {
          Filter = Typing;
          Editing = false;
        } else if (Key == 27) {
          Editing = false;
        } else if ((Key == 127 || Key == 8) && !Typing.empty()) {
          Typing.pop_back();
        } else if (Key >= 32 && Key < 127) {
          Typing += Key;
        }
      } else if (Key == 'q' || Key == 'Q' || Key == 3) {
        return 0;
      } else if (Key == 's') {
        auto It = llvm::find(SortKeys, Sort);
        Sort = SortKeys[(It - std::begin(SortKeys) + 1) % std::size(SortKeys)];
      } else if (Key == '/') {
        Editing = true;
        Typing.clear();
      }
    }
  }
  return 0;
}

int runSnapshotCommand(const std::string &Command,
                       const std::vector<std::string> &Args) {
  SnapshotOptions Options;
  if (std::string Error = parse(Command, Args, Options); !Error.empty())
    return usageError(Command, Error);
  auto Memory = openTarget(Options);
  if (!Memory) {
    std::fprintf(stderr, "coroscope %s: error: %s\n", Command.c_str(),
                 llvm::toString(Memory.takeError()).c_str());
    return 2;
  }
  if (Command == "top")
    return runTop(Options, **Memory);

  RowFormat Format = Options.Format == "json"  ? RowFormat::Json
                     : Options.Format == "csv" ? RowFormat::Csv
                                               : RowFormat::Table;
  std::string Text;
  int Status = 0;
  for (unsigned Round = 0; Round < Options.Snapshots; ++Round) {
    auto S = readSnapshot(**Memory, Options.Read);
    if (!S) {
      std::fprintf(stderr, "coroscope %s: error: %s\n", Command.c_str(),
                   llvm::toString(S.takeError()).c_str());
      return 2;
    }
    printWarnings(Command, *S);
    if (Command == "pstree") {
      std::vector<Cycle> Cycles = findCycles(*S);
      Text += renderTree(*S, Cycles);
      if (!Cycles.empty())
        Status = 1;
      continue;
    }
    std::vector<CoroutineRow> Rows = std::move(S->Coroutines);
    filterRows(Rows, Options.Filter);
    sortRows(Rows, "id");
    if (!Options.Sort.empty() && !sortRows(Rows, Options.Sort))
      return usageError(Command, "--sort is id, function, name, state, time "
                                 "or thread, not '" +
                                     Options.Sort + "'");
    // Many JSON snapshots: one document per line.
    if (Text.empty())
      Text = renderRows(*S, Rows, Format, Options.Snapshots > 1);
    else
      Text += renderRows(*S, Rows, Format, Options.Snapshots > 1);
  }
  if (int Written = emit(Options.Output, Text))
    return Written;
  return Status;
}

} // namespace

int runPs(const std::vector<std::string> &Args) {
  return runSnapshotCommand("ps", Args);
}
int runPstree(const std::vector<std::string> &Args) {
  return runSnapshotCommand("pstree", Args);
}
int runTop(const std::vector<std::string> &Args) {
  return runSnapshotCommand("top", Args);
}

} // namespace coroscope::tool
