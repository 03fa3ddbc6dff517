//===- TriageGroups.cpp - coro-* findings grouped by root cause -----------===//
#include "TriageGroups.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <map>

namespace coroscope::tool::triage {

namespace {

/// The text between the first pair of quotes after \p From, or "".
llvm::StringRef quotedAfter(llvm::StringRef Text, size_t From = 0) {
  size_t Open = Text.find('\'', From);
  if (Open == llvm::StringRef::npos)
    return "";
  size_t Close = Text.find('\'', Open + 1);
  if (Close == llvm::StringRef::npos)
    return "";
  return Text.slice(Open + 1, Close);
}

/// Every quoted name in \p Text, in order.
std::vector<std::string> quotedNames(llvm::StringRef Text) {
  std::vector<std::string> Names;
  for (size_t At = 0;;) {
    size_t Open = Text.find('\'', At);
    size_t Close = Open == llvm::StringRef::npos ? llvm::StringRef::npos
                                                 : Text.find('\'', Open + 1);
    if (Close == llvm::StringRef::npos)
      return Names;
    Names.push_back(Text.slice(Open + 1, Close).str());
    At = Close + 1;
  }
}

/// "std::future<int>::get" -> "std::future::get": options name functions
/// and types without template arguments. Operators keep their symbols.
std::string withoutTemplateArguments(llvm::StringRef Name) {
  std::string Out;
  int Depth = 0;
  for (size_t I = 0; I < Name.size(); ++I) {
    if (Depth == 0 && Name.substr(I).starts_with("operator")) {
      size_t End = I + 8;
      while (End < Name.size() &&
             llvm::StringRef("<>=!+-*/%&|^~[]()").contains(Name[End]))
        ++End;
      Out += Name.slice(I, End).str();
      I = End - 1;
      continue;
    }
    if (Name[I] == '<')
      ++Depth;
    else if (Name[I] == '>')
      Depth = std::max(0, Depth - 1);
    else if (Depth == 0)
      Out += Name[I];
  }
  return Out;
}

/// An option entry that matches exactly \p Name: names with regular
/// expression characters are read as anchored expressions, so escape them.
std::string optionEntry(llvm::StringRef Name) {
  std::string Plain = withoutTemplateArguments(Name);
  if (llvm::StringRef(Plain).find_first_of(".*+?()[]{}|^$\\") ==
      llvm::StringRef::npos)
    return Plain;
  return llvm::Regex::escape(Plain);
}

Root blockingRoot(const Finding &F) {
  Root R;
  llvm::StringRef Message = F.Message;
  size_t Runs = Message.find(" runs; ");
  llvm::StringRef After =
      Runs == llvm::StringRef::npos ? "" : Message.substr(Runs + 7);
  R.Option = F.Check + ".AllowedFunctions";
  if (After.consume_front("it reaches ")) {
    // A chain: the root is the function the blocking call is made in, from
    // the last note ("... blocks here, in 'log::write'").
    llvm::StringRef Leaf;
    for (const triage::Note &N : F.Notes) {
      llvm::StringRef Text = N.Message;
      size_t In = Text.rfind(" blocks here, in ");
      if (In != llvm::StringRef::npos)
        Leaf = quotedAfter(Text, In);
    }
    // "'fwrite' on 'log' (blocking I/O)": the family follows the last name.
    size_t FamilyAt = After.find(" (", After.rfind('\''));
    llvm::StringRef Subject = After.substr(0, FamilyAt);
    llvm::StringRef Family =
        FamilyAt == llvm::StringRef::npos
            ? ""
            : After.substr(FamilyAt + 2).drop_back(After.ends_with(")"));
    llvm::StringRef Blocking = quotedAfter(Subject);
    if (Leaf.empty() || Leaf.starts_with("(lambda at")) {
      // A lambda has no name an option can give; allow its blocking call.
      R.Key = F.Check + "\n" + Blocking.str();
      R.Title = "'" + Blocking.str() + "' (" + Family.str() + ")";
      R.OptionValue = optionEntry(Blocking);
    } else {
      R.Key = F.Check + "\n" + Leaf.str();
      R.Title = "'" + Leaf.str() + "' (" + Family.str() + ": '" +
                Blocking.str() + "')";
      R.OptionValue = optionEntry(Leaf);
    }
    return R;
  }
  llvm::StringRef Blocking = quotedAfter(Message);
  llvm::StringRef Family = After.split(" stalls ").first;
  R.Key = F.Check + "\n" + Blocking.str();
  R.Title = "'" + Blocking.str() + "' (" + Family.str() + ")";
  R.OptionValue = optionEntry(Blocking);
  return R;
}

Root taskRoot(const Finding &F) {
  Root R;
  llvm::StringRef Message = F.Message;
  size_t Kind = Message.find("task '");
  size_t Awaitable = Message.find("awaitable '");
  if (Kind == llvm::StringRef::npos ||
      (Awaitable != llvm::StringRef::npos && Awaitable < Kind))
    Kind = Awaitable;
  llvm::StringRef Type = quotedAfter(Message, Kind);
  const bool IsAwaitable = Kind == Awaitable;
  R.Key = F.Check + "\n" + withoutTemplateArguments(Type);
  R.Title = std::string(IsAwaitable ? "awaitable" : "task") + " '" +
            withoutTemplateArguments(Type) + "'";
  R.Option = F.Check + ".IgnoredTypes";
  R.OptionValue = optionEntry(Type);
  return R;
}

Root lockRoot(const Finding &F, llvm::StringRef What) {
  Root R;
  llvm::StringRef Message = llvm::StringRef(F.Message).split(';').first;
  std::vector<std::string> Names = quotedNames(Message);
  std::string Locks;
  if (F.Check == "coro-lock-across-suspend") {
    // "lock 'guard' on 'mu'": the mutex, not the guard, is the root.
    size_t On = Message.find(" on '");
    Locks = On != llvm::StringRef::npos ? quotedAfter(Message, On).str()
            : Names.empty()             ? ""
                                        : Names.front();
    Locks = "'" + Locks + "'";
  } else {
    for (const std::string &Name : Names)
      if (llvm::StringRef(Message).contains("'" + Name + "' and") ||
          llvm::StringRef(Message).contains("and '" + Name + "'") ||
          Names.size() == 1)
        Locks += (Locks.empty() ? "'" : ", '") + Name + "'";
    if (Locks.empty() && !Names.empty())
      Locks = "'" + Names.front() + "'";
  }
  R.Key = F.Check + "\n" + Locks;
  R.Title = What.str() + " " + Locks;
  R.Advice = "no option accepts a lock; fix the code, or mark a site with "
             "// NOLINT(" +
             F.Check + ")";
  return R;
}

/// "reference parameter 'key' of lazy task 'lookup' is bound to ...": the
/// borrowed name and its coroutine are the root; a fix there (a value
/// parameter, a copied capture) removes every finding of the group.
Root danglingRoot(const Finding &F) {
  Root R;
  llvm::StringRef Message = llvm::StringRef(F.Message).split(';').first;
  for (llvm::StringRef Verb : {" is bound to ", " lives in ", " is a "})
    if (size_t At = Message.find(Verb); At != llvm::StringRef::npos) {
      Message = Message.take_front(At);
      break;
    }
  R.Key = F.Check + "\n" + Message.str();
  R.Title = Message.str();
  R.Advice = "take it by value, or keep the object alive until the task has "
             "run; or mark a site with // NOLINT(" +
             F.Check + ")";
  return R;
}

Root rootOf(const Finding &F) {
  if (F.Check == "coro-blocking-call")
    return blockingRoot(F);
  if (F.Check == "coro-unawaited-task")
    return taskRoot(F);
  if (F.Check == "coro-lock-across-suspend")
    return lockRoot(F, "held across a suspension:");
  if (F.Check == "coro-lock-order-inversion")
    return lockRoot(F, "lock order:");
  if (F.Check == "coro-dangling-reference")
    return danglingRoot(F);
  Root R;
  R.Key = F.Check + "\n" + F.Message;
  R.Title = F.Message;
  R.Advice = "mark a site with // NOLINT(" + F.Check + ")";
  return R;
}

} // namespace

std::vector<Group> groupFindings(const std::vector<Finding> &Findings) {
  std::map<std::string, Group> ByKey;
  for (const Finding &F : Findings) {
    Root R = rootOf(F);
    Group &G = ByKey[R.Key];
    if (G.Findings.empty()) {
      G.Cause = std::move(R);
      G.Check = F.Check;
    }
    G.Findings.push_back(&F);
  }
  std::vector<Group> Groups;
  for (auto &Entry : ByKey)
    Groups.push_back(std::move(Entry.second));
  std::stable_sort(Groups.begin(), Groups.end(),
                   [](const Group &A, const Group &B) {
                     return A.Findings.size() > B.Findings.size();
                   });
  return Groups;
}

} // namespace coroscope::tool::triage
