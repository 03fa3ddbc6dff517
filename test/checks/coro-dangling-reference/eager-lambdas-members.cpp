// RUN: %check_coro_tidy %s coro-dangling-reference %t

// Eager tasks and fire-and-forget coroutines that suspend before they read a
// reference; coroutine lambdas whose lambda object dies while their task is
// pending; member coroutines called on a temporary object.

#include <coro_test/tasks.h>

#include <string>
#include <utility>
#include <vector>

coro::thread_pool pool;
cppcoro::task<> tick() { co_return; }

// Eager: reads 'line' only after it waits for a turn on the pool.
eager::task log_later(const std::string &line) {
  co_await pool.schedule();
  std::string copy = line;
}
// Eager: reads 'line' before it suspends, so the read is safe.
eager::task log_now(const std::string &line) {
  std::string copy = line;
  co_await pool.schedule();
}
// In a loop, a read before the await follows the previous iteration's one.
eager::task log_each(const std::string &line) {
  for (int i = 0; i < 2; ++i) {
    std::string copy = line;
    co_await pool.schedule();
  }
}
eager::fire_and_forget notify(const std::string &who) {
  co_await pool.schedule();
  std::string copy = who;
}
// Awaiting a child coroutine may finish within the call (the child resumes
// its parent by symmetric transfer), so the read is not shown to follow
// the statement: not reported.
eager::task after_child(const std::string &line) {
  co_await tick();
  std::string copy = line;
}

void eager_callers() {
  log_later(std::string("detached"));
  // CHECK-NOTES: :[[@LINE-1]]:13: warning: reference parameter 'line' of eager task 'log_later' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is not awaited, and resumes after this statement [coro-dangling-reference]
  // CHECK-NOTES: :19:22: note: 'log_later' reads 'line' here, after it first suspends
  // CHECK-FIXES: {{^}}eager::task log_later(std::string line) {{{$}}
  log_each(std::string("loop"));
  // CHECK-NOTES: :[[@LINE-1]]:12: warning: reference parameter 'line' of eager task 'log_each' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is not awaited, and resumes after this statement
  // CHECK-NOTES: :29:24: note: 'log_each' reads 'line' here, after it first suspends
  // CHECK-FIXES: {{^}}eager::task log_each(std::string line) {{{$}}
  notify(std::string("ops"));
  // CHECK-NOTES: :[[@LINE-1]]:10: warning: reference parameter 'who' of fire-and-forget coroutine 'notify' is bound to a temporary 'std::string' that is destroyed at the end of this statement; it runs detached and resumes after this statement
  // CHECK-NOTES: :35:22: note: 'notify' reads 'who' here, after it first suspends
  // CHECK-FIXES: {{^}}eager::fire_and_forget notify(std::string who) {{{$}}
  log_now(std::string("read before suspending"));
  after_child(std::string("child"));
}

cppcoro::task<> eager_stored() {
  auto pending = log_later(std::string("stored"));
  // CHECK-NOTES: :[[@LINE-1]]:28: warning: reference parameter 'line' of eager task 'log_later' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+3]]
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is awaited here
  // CHECK-NOTES: :19:22: note: 'log_later' reads 'line' here, after it first suspends
  co_await pending;
  co_await log_later(std::string("awaited in place"));
}

// --- Coroutine lambdas: the captures live in the lambda object.

cppcoro::task<> lambdas(std::vector<std::string> names) {
  std::string prefix = "user:";
  // A temporary lambda invoked in place; its task is stored.
  auto pending = [prefix]() -> cppcoro::task<int> {
    co_return prefix.size();
  }();
  // CHECK-NOTES: :[[@LINE-3]]:18: warning: capture 'prefix' of lazy task 'lambdas::(lambda at eager-lambdas-members.cpp.tmp.{{[a-z]+}}.cpp:[[@LINE-3]]:18)' lives in a temporary lambda that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is awaited here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: 'lambdas::(lambda at {{.*}})' reads the capture 'prefix' here, when the task runs
  std::vector<cppcoro::task<int>> tasks;
  co_await pending;

  // A named lambda that goes out of scope before its task is awaited.
  for (const auto &name : names) {
    auto job = [name]() -> cppcoro::task<int> { co_return name.size(); };
    tasks.push_back(job());
    // CHECK-NOTES: :[[@LINE-1]]:21: warning: capture 'name' of lazy task 'lambdas::(lambda at {{.*}})' lives in lambda 'job', which is destroyed at line [[@LINE+4]]; the task is pushed into 'tasks' and awaited at line [[@LINE+6]]
    // CHECK-NOTES: :[[@LINE+3]]:3: note: 'job' is destroyed here
    // CHECK-NOTES: :[[@LINE+4]]:5: note: the task is awaited here
    // CHECK-NOTES: :[[@LINE-5]]:59: note: 'lambdas::(lambda at {{.*}})' reads the capture 'name' here, when the task runs
  }
  for (auto &t : tasks)
    co_await t;

  // Not reported: invoked and awaited in one statement; a lambda that
  // outlives its task; a lambda that captures nothing it reads.
  co_await [prefix]() -> cppcoro::task<int> { co_return prefix.size(); }();
  auto kept = [prefix]() -> cppcoro::task<int> { co_return prefix.size(); };
  auto later = kept();
  co_await later;
  auto empty = [prefix]() -> cppcoro::task<int> { co_return 1; }();
  co_await empty;
}

// --- Member coroutines called on a temporary object.

struct Client {
  std::string host = "db";
  cppcoro::task<int> fetch() { co_return host.size(); }
  static cppcoro::task<int> ping() { co_return 0; }
  cppcoro::task<int> constant() { co_return 1; }
};

cppcoro::task<> members() {
  auto pending = Client{}.fetch();
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: 'this' of lazy task 'Client::fetch' is a temporary 'Client' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+3]]
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is awaited here
  // CHECK-NOTES: :111:42: note: 'Client::fetch' reads its object here, when the task runs
  co_await pending;

  // Not reported: awaited in place, a named object that outlives the
  // task, a static member, a member that reads nothing of its object.
  co_await Client{}.fetch();
  Client client;
  auto from_named = client.fetch();
  co_await from_named;
  auto from_static = Client::ping();
  co_await from_static;
  auto constant = Client{}.constant();
  co_await constant;
}

// NOLINT silences one finding.
cppcoro::task<> silenced() {
  auto pending = Client{}.fetch(); // NOLINT(coro-dangling-reference)
  co_await pending;
}
