//===- CoroscopeMain.cpp - the coroscope command --------------------------===//
#include "Commands.h"

#include <cstdio>
#include <string>
#include <vector>

namespace {
const char *const Usage =
    "usage: coroscope <command> [options]\n"
    "\n"
    "commands:\n"
    "  instrument [options] FILE... [-- COMPILE-FLAGS]\n"
    "      add (or with --strip remove) runtime tracking to coroutines; see\n"
    "      'coroscope instrument --help'\n"
    "  report [--html] [-o FILE] REPORT.json\n"
    "      render a runtime report as a text summary (default) or an HTML "
    "page\n"
    "  report merge [-o FILE] A.json B.json ...\n"
    "      merge reports from many processes into one JSON report\n"
    "  link [--format=text|json|sarif] [-o FILE] [--baseline FILE] PATH...\n"
    "      link the checks' facts files and report blocking chains and\n"
    "      lock-order cycles across translation units ('lockgraph' is an\n"
    "      alias)\n";
} // namespace

int main(int Argc, char **Argv) {
  std::vector<std::string> Args(Argv + 1, Argv + Argc);
  if (Args.empty()) {
    std::fputs("coroscope: error: no command given; run 'coroscope --help'\n",
               stderr);
    return 2;
  }
  std::string Command = Args.front();
  Args.erase(Args.begin());
  if (Command == "--help" || Command == "-h" || Command == "help") {
    std::fputs(Usage, stdout);
    return 0;
  }
  if (Command == "instrument")
    return coroscope::tool::runInstrument(Args);
  if (Command == "link" || Command == "lockgraph")
    return coroscope::tool::runLink(Args, Command);
  if (Command == "triage")
    return coroscope::tool::runTriage(Args);
  if (Command == "report")
    return coroscope::tool::runReport(Args);
  if (Command == "ps")
    return coroscope::tool::runPs(Args);
  if (Command == "pstree")
    return coroscope::tool::runPstree(Args);
  if (Command == "top")
    return coroscope::tool::runTop(Args);
  std::fprintf(
      stderr,
      "coroscope: error: unknown command '%s'; run 'coroscope --help'\n",
      Command.c_str());
  return 2;
}
