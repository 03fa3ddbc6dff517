//===--- BlockingCatalogue.cpp - Which calls block the calling thread -----===//

#include "BlockingCatalogue.h"
#include "CoroutineKnowledge.h"
#include "LockKnowledge.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Basic/Version.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace coroscope {
namespace {

struct CatalogueRow {
  const char *Names; // space-separated
  BlockingFamily Family;
};

// Names are plain qualified names (see plainQualifiedName): no template
// arguments, no inline namespaces. Members are named after the class that
// declares them or the class of the object they are called on.
constexpr CatalogueRow StdRows[] = {
    {"std::this_thread::sleep_for std::this_thread::sleep_until",
     BlockingFamily::Sleep},
    {"std::mutex::lock std::timed_mutex::lock std::recursive_mutex::lock "
     "std::recursive_timed_mutex::lock std::shared_mutex::lock "
     "std::shared_mutex::lock_shared std::shared_timed_mutex::lock "
     "std::shared_timed_mutex::lock_shared std::unique_lock::lock "
     "std::shared_lock::lock std::lock",
     BlockingFamily::Locking},
    {"std::condition_variable::wait std::condition_variable::wait_for "
     "std::condition_variable::wait_until std::condition_variable_any::wait "
     "std::condition_variable_any::wait_for "
     "std::condition_variable_any::wait_until",
     BlockingFamily::ConditionVariable},
    {"std::future::get std::future::wait std::future::wait_for "
     "std::future::wait_until std::shared_future::get "
     "std::shared_future::wait std::shared_future::wait_for "
     "std::shared_future::wait_until std::thread::join std::jthread::join "
     "std::counting_semaphore::acquire std::latch::wait "
     "std::latch::arrive_and_wait std::barrier::wait "
     "std::barrier::arrive_and_wait std::atomic::wait std::atomic_ref::wait "
     "std::atomic_flag::wait std::atomic_wait std::atomic_wait_explicit "
     "std::atomic_flag_wait std::atomic_flag_wait_explicit",
     BlockingFamily::SyncWait},
};

// Global C functions; they count only when declared in a system header, so
// a project's own `read` or `wait` is not mistaken for POSIX's.
constexpr CatalogueRow CRows[] = {
    {"sleep usleep nanosleep clock_nanosleep", BlockingFamily::Sleep},
    {"pthread_mutex_lock pthread_rwlock_rdlock pthread_rwlock_wrlock "
     "pthread_spin_lock",
     BlockingFamily::Locking},
    {"pthread_cond_wait pthread_cond_timedwait",
     BlockingFamily::ConditionVariable},
    {"pthread_join sem_wait sem_timedwait", BlockingFamily::SyncWait},
    {"read write pread pwrite pread64 pwrite64 readv writev preadv pwritev "
     "recv recvfrom recvmsg recvmmsg send sendto sendmsg sendmmsg accept "
     "accept4 connect poll ppoll select pselect epoll_wait epoll_pwait wait "
     "waitpid waitid system popen pclose getaddrinfo gethostbyname "
     "gethostbyname2 gethostbyaddr getnameinfo fsync fdatasync flock sync "
     "syncfs",
     BlockingFamily::IO},
    {"fopen freopen fclose fflush fread fwrite fgets fgetc getc getchar "
     "scanf fscanf vscanf vfscanf getline getdelim",
     BlockingFamily::StreamIO},
};

// The synchronous waits of coroutine and async libraries. In a coroutine
// they are sync-over-async: the thread waits for work that may need it.
constexpr CatalogueRow CoroutineLibraryRows[] = {
    {"cppcoro::sync_wait folly::coro::blockingWait coro::sync_wait "
     "async_simple::coro::syncAwait boost::cobalt::run "
     "concurrencpp::result::get concurrencpp::result::wait "
     "concurrencpp::result::wait_for concurrencpp::result::wait_until "
     "concurrencpp::shared_result::get concurrencpp::shared_result::wait "
     "concurrencpp::shared_result::wait_for "
     "concurrencpp::shared_result::wait_until",
     BlockingFamily::SyncOverAsync},
    {"QThread::wait QFuture::waitForFinished", BlockingFamily::SyncWait},
    {"QEventLoop::exec", BlockingFamily::EventLoop},
};

// Asio names; each is also registered under boost::asio.
constexpr CatalogueRow AsioRows[] = {
    {"asio::io_context::run asio::io_context::run_one "
     "asio::io_context::run_for asio::io_context::run_one_for "
     "asio::io_context::run_until asio::io_context::run_one_until "
     "asio::thread_pool::join asio::thread_pool::wait",
     BlockingFamily::EventLoop},
    {"asio::read asio::write asio::read_at asio::write_at asio::read_until "
     "asio::connect asio::basic_stream_socket::read_some "
     "asio::basic_stream_socket::write_some asio::basic_stream_socket::receive "
     "asio::basic_stream_socket::send asio::basic_datagram_socket::receive "
     "asio::basic_datagram_socket::receive_from "
     "asio::basic_datagram_socket::send asio::basic_datagram_socket::send_to "
     "asio::basic_socket::connect asio::basic_socket_acceptor::accept "
     "asio::ip::basic_resolver::resolve asio::basic_waitable_timer::wait "
     "asio::basic_deadline_timer::wait asio::basic_stream_file::read_some "
     "asio::basic_stream_file::write_some",
     BlockingFamily::IO},
};

bool hasRegexMeta(StringRef Text) {
  return Text.find_first_of("\\^$.|?*+()[]{}") != StringRef::npos;
}

StringRef lastComponent(StringRef QualifiedName) {
  size_t Pos = QualifiedName.rfind("::");
  return Pos == StringRef::npos ? QualifiedName : QualifiedName.substr(Pos + 2);
}

std::string printType(QualType Type, const ASTContext &Ctx) {
  if (Type->isPointerType())
    Type = Type->getPointeeType();
  Type = Type.getNonReferenceType().getUnqualifiedType();
  // Name a typedef the way users write it ("std::istream", "std::ifstream").
  if (const auto *Typedef = Type->getAs<TypedefType>())
    return plainQualifiedName(*Typedef->getDecl());
  // The canonical type: deduced template arguments (CTAD) keep the
  // unqualified spelling of the deduction guide otherwise.
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  Policy.FullyQualifiedName = true;
#if CLANG_VERSION_MAJOR >= 21
  Policy.PrintAsCanonical = true;
#else
  Policy.PrintCanonicalTypes = true;
#endif
  return Type.getCanonicalType().getAsString(Policy);
}

/// Constructing a lock guard blocks when it waits for its mutex
/// (LockKnowledge decides).
bool lockConstructionBlocks(const CXXConstructExpr &Construct,
                            const Expr *&Mutex) {
  std::optional<GuardConstruction> Guard = classifyGuardConstruction(Construct);
  if (!Guard || !Guard->Blocks)
    return false;
  Mutex = Guard->Mutexes.front();
  return true;
}

bool isFileStreamClass(const CXXRecordDecl *RD) {
  if (!RD)
    return false;
  std::string Name = plainQualifiedName(*RD);
  return Name == "std::basic_ifstream" || Name == "std::basic_ofstream" ||
         Name == "std::basic_fstream";
}

/// True when \p Path is a string literal naming a file under /proc: the
/// kernel makes its contents on the spot, and reading it never waits for a
/// device (a debugger check reads "/proc/self/status").
bool isProcfsPath(const Expr *Path) {
  for (int Depth = 0; Path && Depth < 8; ++Depth) {
    Path = Path->IgnoreImplicit()->IgnoreParens();
    if (const auto *Cast = dyn_cast<ExplicitCastExpr>(Path)) {
      Path = Cast->getSubExpr(); // std::string("/proc/...")
      continue;
    }
    if (const auto *Literal = dyn_cast<StringLiteral>(Path))
      return Literal->getCharByteWidth() == 1 &&
             Literal->getString().starts_with("/proc/");
    const auto *Construct = dyn_cast<CXXConstructExpr>(Path);
    if (!Construct || Construct->getNumArgs() == 0)
      return false;
    Path = Construct->getArg(0); // a std::string made from the literal
  }
  return false;
}

/// The timeout argument of a call that waits for readiness, or -1.
int timeoutArgument(StringRef Name) {
  return llvm::StringSwitch<int>(Name)
      .Case("poll", 2)
      .Case("epoll_wait", 3)
      .Case("epoll_pwait", 3)
      .Default(-1);
}

/// A readiness wait with a zero timeout only polls: it returns at once.
bool pollsWithoutWaiting(const CallExpr &Call, StringRef Name,
                         const ASTContext &Ctx) {
  const int Timeout = timeoutArgument(Name);
  if (Timeout < 0 || Timeout >= static_cast<int>(Call.getNumArgs()))
    return false;
  const Expr *Arg = Call.getArg(Timeout);
  if (Arg->isValueDependent())
    return false;
  Expr::EvalResult Value;
  return Arg->EvaluateAsInt(Value, Ctx) && Value.Val.getInt() == 0;
}

/// A file stream variable opened on a /proc file where it is declared.
bool isProcfsStream(const Expr &Stream) {
  const auto *Ref = dyn_cast<DeclRefExpr>(Stream.IgnoreParenImpCasts());
  const auto *Var = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
  const auto *Init =
      Var ? dyn_cast_or_null<CXXConstructExpr>(Var->getInit()) : nullptr;
  return Init && Init->getNumArgs() > 0 && isProcfsPath(Init->getArg(0));
}

} // namespace

std::optional<std::pair<unsigned, bool>>
waitsOnlyWhen(const CallExpr &Call, const FunctionDecl &Function,
              const ASTContext &Ctx) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || !Callee->getIdentifier())
    return std::nullopt;
  const int Timeout = timeoutArgument(Callee->getName());
  if (Timeout < 0 || Timeout >= static_cast<int>(Call.getNumArgs()))
    return std::nullopt;
  const auto *Choice = dyn_cast<ConditionalOperator>(
      Call.getArg(Timeout)->IgnoreParenImpCasts());
  if (!Choice)
    return std::nullopt;
  const auto *Ref =
      dyn_cast<DeclRefExpr>(Choice->getCond()->IgnoreParenImpCasts());
  const auto *Param = Ref ? dyn_cast<ParmVarDecl>(Ref->getDecl()) : nullptr;
  if (!Param || Param->getDeclContext() != &Function ||
      !Param->getType()->isBooleanType())
    return std::nullopt;
  auto IsZero = [&](const Expr *E) {
    Expr::EvalResult Value;
    return !E->isValueDependent() && E->EvaluateAsInt(Value, Ctx) &&
           Value.Val.getInt() == 0;
  };
  const bool TrueWaits = !IsZero(Choice->getTrueExpr());
  const bool FalseWaits = !IsZero(Choice->getFalseExpr());
  if (TrueWaits == FalseWaits)
    return std::nullopt;
  return std::make_pair(Param->getFunctionScopeIndex(), TrueWaits);
}

StringRef familyPhrase(BlockingFamily Family) {
  switch (Family) {
  case BlockingFamily::Sleep:
    return "sleeping";
  case BlockingFamily::Locking:
    return "synchronous locking";
  case BlockingFamily::ConditionVariable:
    return "waiting on a condition variable";
  case BlockingFamily::SyncWait:
    return "waiting on a future, thread or synchronization primitive";
  case BlockingFamily::SyncOverAsync:
    return "waiting synchronously for a coroutine (sync-over-async, which "
           "can deadlock)";
  case BlockingFamily::IO:
    return "blocking I/O";
  case BlockingFamily::StreamIO:
    return "synchronous file or console I/O";
  case BlockingFamily::EventLoop:
    return "running an event loop or waiting synchronously";
  case BlockingFamily::Configured:
    return "calling a function listed in BlockingFunctions";
  }
  llvm_unreachable("unknown blocking family");
}

NameList::NameList(StringRef Spec) {
  llvm::SmallVector<StringRef, 8> Parts;
  Spec.split(Parts, ';', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef Part : Parts) {
    Part = Part.trim();
    if (Part.empty())
      continue;
    Part.consume_front("::");
    Entry E{Part.str(), Part.contains("::"), std::nullopt};
    if (hasRegexMeta(Part)) {
      llvm::Regex Pattern(("^(" + Part + ")$").str());
      std::string Error;
      if (!Pattern.isValid(Error)) {
        Errors.push_back("'" + Part.str() + "': " + Error);
        continue;
      }
      E.Pattern = std::move(Pattern);
    }
    Entries.push_back(std::move(E));
  }
}

std::optional<size_t>
NameList::findMatch(llvm::ArrayRef<std::string> PlainQualifiedNames) const {
  for (size_t I = 0; I < Entries.size(); ++I) {
    const Entry &E = Entries[I];
    for (const std::string &Name : PlainQualifiedNames) {
      StringRef Subject = E.Qualified ? StringRef(Name) : lastComponent(Name);
      if (E.Pattern ? E.Pattern->match(Subject) : Subject == E.Text)
        return I;
    }
  }
  return std::nullopt;
}

BlockingCatalogue::BlockingCatalogue(StringRef ExtraBlockingFunctions,
                                     StringRef AllowedFunctions,
                                     bool LockingIsBlocking)
    : Extra(ExtraBlockingFunctions), Allowed(AllowedFunctions) {
  auto AddRows = [&](llvm::ArrayRef<CatalogueRow> Rows, MatchRule R,
                     StringRef Prefix) {
    for (const CatalogueRow &Row : Rows) {
      if (Row.Family == BlockingFamily::Locking && !LockingIsBlocking)
        continue;
      llvm::SmallVector<StringRef, 32> Names;
      StringRef(Row.Names).split(Names, ' ', -1, false);
      for (StringRef Name : Names)
        add((Prefix + Name).str(), Row.Family, R);
    }
  };
  AddRows(StdRows, MatchRule::Any, "");
  AddRows(CRows, MatchRule::SystemCFunction, "");
  AddRows(CoroutineLibraryRows, MatchRule::Any, "");
  AddRows(AsioRows, MatchRule::Any, "");
  AddRows(AsioRows, MatchRule::Any, "boost::");
  if (LockingIsBlocking)
    for (StringRef Lock :
         {"std::lock_guard::lock_guard", "std::scoped_lock::scoped_lock",
          "std::unique_lock::unique_lock", "std::shared_lock::shared_lock"})
      add(Lock, BlockingFamily::Locking, MatchRule::LockConstruction);
  for (StringRef Stream : {"std::basic_ifstream::basic_ifstream",
                           "std::basic_ofstream::basic_ofstream",
                           "std::basic_fstream::basic_fstream"})
    add(Stream, BlockingFamily::StreamIO, MatchRule::FileOpen);
}

void BlockingCatalogue::add(StringRef Name, BlockingFamily Family,
                            MatchRule R) {
  Builtins[Name] = Builtin{Family, R};
}

bool BlockingCatalogue::isAllowed(const FunctionDecl &FD) const {
  return !Allowed.empty() &&
         Allowed.findMatch({plainQualifiedName(FD)}).has_value();
}

std::optional<BlockingCall>
BlockingCatalogue::classifyStream(const FunctionDecl &Callee,
                                  const Expr *Stream,
                                  const ASTContext &Ctx) const {
  static const llvm::StringSet<> Input = {
      "operator>>", "getline", "get", "read", "readsome", "ignore", "peek"};
  static const llvm::StringSet<> FileOnly = {
      "operator<<", "write", "put", "flush", "open", "close", "sync"};
  std::string Name = Callee.getNameAsString();
  bool IsInput = Input.contains(Name);
  if (!IsInput && !FileOnly.contains(Name))
    return std::nullopt;

  const Expr *Bare = Stream->IgnoreParenImpCasts();
  bool IsConsole = false;
  if (const auto *Ref = dyn_cast<DeclRefExpr>(Bare))
    if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl())) {
      std::string VarName = plainQualifiedName(*Var);
      IsConsole = VarName == "std::cin" || VarName == "std::wcin";
    }
  bool IsFile = isFileStreamClass(objectClass(*Bare));
  if (!(IsFile || (IsConsole && IsInput)) || isProcfsStream(*Bare))
    return std::nullopt;

  BlockingCall Result;
  Result.Family = BlockingFamily::StreamIO;
  Result.Names.push_back(plainQualifiedName(Callee));
  std::string CalleeName = isa<CXXMethodDecl>(Callee)
                               ? printType(Bare->getType(), Ctx) + "::" + Name
                               : Result.Names.front();
  Result.Subject = "'" + CalleeName + "'";
  std::string StreamText = shortSourceText(*Bare, Ctx);
  if (!StreamText.empty())
    Result.Subject += " on '" + StreamText + "'";
  return Result;
}

std::optional<BlockingCall>
BlockingCatalogue::classify(const Expr &E, const ASTContext &Ctx) const {
  BlockingCall Result;
  const NamedDecl *Decl = nullptr;
  const Expr *Target = nullptr; // the mutex or object the call works on
  const CXXConstructExpr *Construct = dyn_cast<CXXConstructExpr>(&E);

  if (Construct) {
    const CXXConstructorDecl *Ctor = Construct->getConstructor();
    if (!Ctor)
      return std::nullopt;
    Decl = Ctor;
    Result.Names.push_back(plainQualifiedName(*Ctor));
    Result.Subject =
        "constructing '" + printType(Construct->getType(), Ctx) + "'";
  } else if (const auto *Call = dyn_cast<CallExpr>(&E)) {
    if (const FunctionDecl *Callee = Call->getDirectCallee()) {
      Decl = Callee;
      const auto *Method = dyn_cast<CXXMethodDecl>(Callee);
      const Expr *Object = nullptr;
      if (Method && !Method->isStatic()) {
        if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call))
          Object = Member->getImplicitObjectArgument();
        else if (isa<CXXOperatorCallExpr>(Call) && Call->getNumArgs() > 0)
          Object = Call->getArg(0);
        // See through derived-to-base casts: shared_future::wait_for is
        // declared in a base, but the user's object is a shared_future.
        if (Object)
          Object = Object->IgnoreParenImpCasts();
      }
      Result.Names.push_back(plainQualifiedName(*Callee));
      if (Allowed.findMatch(Result.Names))
        return std::nullopt;
      const Expr *Stream =
          Object ? Object : (Call->getNumArgs() ? Call->getArg(0) : nullptr);
      if (Stream)
        if (std::optional<BlockingCall> StreamCall =
                classifyStream(*Callee, Stream, Ctx))
          return StreamCall;
      if (Object) {
        std::string ViaObject;
        if (const CXXRecordDecl *RD = objectClass(*Object))
          ViaObject =
              plainQualifiedName(*RD) + "::" + Callee->getNameAsString();
        if (!ViaObject.empty() && ViaObject != Result.Names.front())
          Result.Names.push_back(ViaObject);
        Result.Subject = "'" + printType(Object->getType(), Ctx) +
                         "::" + Callee->getNameAsString() + "'";
        Target = Object;
      } else {
        Result.Subject = "'" + Result.Names.front() + "'";
        Result.IsFreeFunctionCall = !Method;
      }
    } else if (const auto *Lookup = dyn_cast<UnresolvedLookupExpr>(
                   Call->getCallee()->IgnoreParenImpCasts())) {
      // A dependent call in a template pattern: named, not yet resolved.
      if (Lookup->getNumDecls() == 0)
        return std::nullopt;
      Decl = (*Lookup->decls_begin())->getUnderlyingDecl();
      if (isa<CXXMethodDecl>(Decl) ||
          (isa<FunctionTemplateDecl>(Decl) &&
           isa<CXXMethodDecl>(
               cast<FunctionTemplateDecl>(Decl)->getTemplatedDecl())))
        return std::nullopt;
      Result.Names.push_back(plainQualifiedName(*Decl));
      Result.Subject = "'" + Result.Names.front() + "'";
      Result.IsFreeFunctionCall = true;
    } else {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }

  if (Allowed.findMatch(Result.Names))
    return std::nullopt;

  const SourceManager &SM = Ctx.getSourceManager();
  for (const std::string &Name : Result.Names) {
    auto It = Builtins.find(Name);
    if (It == Builtins.end())
      continue;
    const Builtin &B = It->second;
    switch (B.Rule) {
    case MatchRule::Any:
      break;
    case MatchRule::SystemCFunction:
      if (!Decl->getDeclContext()->getRedeclContext()->isTranslationUnit() ||
          !SM.isInSystemHeader(Decl->getCanonicalDecl()->getLocation()))
        continue;
      if (const auto *Call = dyn_cast<CallExpr>(&E);
          Call && pollsWithoutWaiting(*Call, Name, Ctx))
        continue;
      break;
    case MatchRule::LockConstruction:
      if (!Construct || !lockConstructionBlocks(*Construct, Target))
        continue;
      break;
    case MatchRule::FileOpen:
      if (!Construct || Construct->getNumArgs() == 0 ||
          isFileStreamClass(objectClass(*Construct->getArg(0))) ||
          isProcfsPath(Construct->getArg(0)))
        continue;
      Target = Construct->getArg(0);
      break;
    }
    Result.Family = B.Family;
    if (Target) {
      std::string TargetText = shortSourceText(*Target, Ctx);
      if (!TargetText.empty())
        Result.Subject += " on '" + TargetText + "'";
    }
    return Result;
  }

  if (Extra.findMatch(Result.Names)) {
    Result.Family = BlockingFamily::Configured;
    return Result;
  }
  return std::nullopt;
}

} // namespace coroscope
