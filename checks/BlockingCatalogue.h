//===--- BlockingCatalogue.h - Which calls block the calling thread -------===//
//
// The shared answer to "does this call block the thread?": a built-in
// catalogue (sleeping, locking, condition variables, futures and threads,
// POSIX and Asio synchronous I/O, stdio and iostreams, event loops) plus the
// names a user adds or allows. docs/checks/coro-blocking-call.md lists it.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_BLOCKINGCATALOGUE_H
#define COROSCOPE_CHECKS_BLOCKINGCATALOGUE_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Regex.h"
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

enum class BlockingFamily {
  Sleep,
  Locking,
  ConditionVariable,
  SyncWait,
  SyncOverAsync,
  IO,
  StreamIO,
  EventLoop,
  Configured,
};

/// The family as a gerund phrase that fits "<phrase> stalls every coroutine".
llvm::StringRef familyPhrase(BlockingFamily Family);

/// A ';'-separated list of function names in clang-tidy option style.
/// An entry with "::" matches the plain qualified name (a leading "::" is
/// optional); an entry without matches the unqualified name. An entry with
/// regex metacharacters is an anchored regular expression.
class NameList {
public:
  NameList() = default;
  explicit NameList(llvm::StringRef Spec);

  /// Index of the first entry matching any of \p PlainQualifiedNames.
  std::optional<size_t>
  findMatch(llvm::ArrayRef<std::string> PlainQualifiedNames) const;
  bool empty() const { return Entries.empty(); }
  /// Entries that are not valid regular expressions, with the reason.
  const std::vector<std::string> &errors() const { return Errors; }

private:
  struct Entry {
    std::string Text;
    bool Qualified;
    std::optional<llvm::Regex> Pattern;
  };
  std::vector<Entry> Entries;
  std::vector<std::string> Errors;
};

/// One call that blocks.
struct BlockingCall {
  /// What the diagnostic names: "'std::mutex::lock' on 'mu_'",
  /// "constructing 'std::lock_guard<std::mutex>' on 'mu_'".
  std::string Subject;
  BlockingFamily Family;
  /// Plain qualified names the call answers to, for Replacements.
  llvm::SmallVector<std::string, 2> Names;
  /// A call of a free function by name, which a fix-it can rewrite.
  bool IsFreeFunctionCall = false;
};

/// For a readiness wait (poll, epoll_wait) whose timeout is a bool
/// parameter's choice between waiting and polling (`wait ? -1 : 0`): the
/// parameter's index in \p Function and the value with which the call
/// waits. The call returns at once for the other value.
std::optional<std::pair<unsigned, bool>>
waitsOnlyWhen(const clang::CallExpr &Call, const clang::FunctionDecl &Function,
              const clang::ASTContext &Ctx);

class BlockingCatalogue {
public:
  BlockingCatalogue(llvm::StringRef ExtraBlockingFunctions,
                    llvm::StringRef AllowedFunctions, bool LockingIsBlocking);

  /// Classifies a call or construction in evaluated code. Works on resolved
  /// calls and on dependent calls whose candidates are all known by name.
  std::optional<BlockingCall> classify(const clang::Expr &E,
                                       const clang::ASTContext &Ctx) const;

  /// True when the user allowed \p FD: it is neither reported nor followed.
  bool isAllowed(const clang::FunctionDecl &FD) const;

  const NameList &extraBlocking() const { return Extra; }
  const NameList &allowed() const { return Allowed; }

private:
  enum class MatchRule { Any, SystemCFunction, LockConstruction, FileOpen };
  struct Builtin {
    BlockingFamily Family;
    MatchRule Rule;
  };
  void add(llvm::StringRef Name, BlockingFamily Family,
           MatchRule Rule = MatchRule::Any);
  std::optional<BlockingCall>
  classifyStream(const clang::FunctionDecl &Callee, const clang::Expr *Stream,
                 const clang::ASTContext &Ctx) const;

  llvm::StringMap<Builtin> Builtins;
  NameList Extra;
  NameList Allowed;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_BLOCKINGCATALOGUE_H
