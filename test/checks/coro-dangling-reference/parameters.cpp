// RUN: %check_coro_tidy %s coro-dangling-reference %t

// Reference, view and pointer parameters of lazy and eager tasks bound to
// temporaries and to locals that die while the task is still pending: the
// task is stored and awaited later, pushed into a container, returned,
// spawned or run. Each finding names the parameter, what it is bound to,
// where that dies and where the task is still pending.

#include <coro_test/tasks.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

cppcoro::task<int> lookup(const std::string &key) { co_return key.size(); }
cppcoro::task<int> measure(std::string_view name) { co_return name.size(); }
cppcoro::task<int> sum(std::span<const int> values) {
  co_return values.empty() ? 0 : values[0];
}
cppcoro::task<int> deref(const int *value) { co_return *value; }
cppcoro::task<> consume(std::string &&text) {
  std::string mine = std::move(text);
  co_return;
}
// Never reads its parameter: nothing dangles.
cppcoro::task<int> ignore(const std::string &) { co_return 0; }
cppcoro::task<> fetch_all(std::vector<cppcoro::task<int>> tasks) {
  for (auto &t : tasks)
    co_await t;
}

cppcoro::task<> stored_then_awaited() {
  auto pending = lookup(std::string("user:1"));
  // CHECK-NOTES: :[[@LINE-1]]:25: warning: reference parameter 'key' of lazy task 'lookup' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+4]] [coro-dangling-reference]
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is awaited here
  // CHECK-NOTES: :17:63: note: 'lookup' reads 'key' here, when the task runs
  // CHECK-FIXES: {{^}}cppcoro::task<int> lookup(std::string key) { co_return key.size(); }{{$}}
  co_await pending;
}

// A conversion makes the temporary: "user:" + id is a std::string.
cppcoro::task<> converted(int id) {
  auto pending = measure("user:" + std::to_string(id));
  // CHECK-NOTES: :[[@LINE-1]]:26: warning: 'std::string_view' parameter 'name' of lazy task 'measure' is bound to a temporary 'std::basic_string<char>' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+3]]
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is awaited here
  // CHECK-NOTES: :18:63: note: 'measure' reads 'name' here, when the task runs
  co_await std::move(pending);
}

// A local that dies at the end of a loop body, while the task waits in a
// container for the loop to end.
cppcoro::task<> pushed_in_loop(std::vector<std::string> names) {
  std::vector<cppcoro::task<int>> tasks;
  for (const auto &name : names) {
    std::string key = "user:" + name;
    tasks.push_back(lookup(key));
    // CHECK-NOTES: :[[@LINE-1]]:28: warning: reference parameter 'key' of lazy task 'lookup' is bound to local variable 'key', which is destroyed at line [[@LINE+4]]; the task is pushed into 'tasks' and awaited at line [[@LINE+5]]
    // CHECK-NOTES: :[[@LINE+3]]:3: note: 'key' is destroyed here
    // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is awaited here
    // CHECK-NOTES: :17:63: note: 'lookup' reads 'key' here, when the task runs
  }
  co_await fetch_all(std::move(tasks));
}

// Returned from a function that is not a coroutine: its locals and its
// by-value parameters die when it returns.
cppcoro::task<int> make_sum() {
  int values[] = {1, 2, 3};
  return sum(values);
  // CHECK-NOTES: :[[@LINE-1]]:14: warning: 'std::span<const int>' parameter 'values' of lazy task 'sum' is bound to local variable 'values', which is destroyed when 'make_sum' returns; the task is returned from 'make_sum'
  // CHECK-NOTES: :20:13: note: 'sum' reads 'values' here, when the task runs
}
cppcoro::task<int> make_deref(int value) {
  return deref(&value);
  // CHECK-NOTES: :[[@LINE-1]]:16: warning: pointer parameter 'value' of lazy task 'deref' is bound to parameter 'value' of 'make_deref', which is destroyed when 'make_deref' returns; the task is returned from 'make_deref'
  // CHECK-NOTES: :22:57: note: 'deref' reads 'value' here, when the task runs
}
cppcoro::task<int> make_lookup() {
  std::string key = "k";
  auto task = lookup(key);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: reference parameter 'key' of lazy task 'lookup' is bound to local variable 'key', which is destroyed when 'make_lookup' returns; the task is stored in 'task' and returned from 'make_lookup'
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is returned from 'make_lookup' here
  // CHECK-NOTES: :17:63: note: 'lookup' reads 'key' here, when the task runs
  return task;
}

// An rvalue reference to a temporary, run later by sync_wait.
void run_later() {
  auto job = consume(std::string(64, 'x'));
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: reference parameter 'text' of lazy task 'consume' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'job' and run by 'cppcoro::sync_wait' at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is run by 'cppcoro::sync_wait' here
  // CHECK-NOTES: :24:32: note: 'consume' reads 'text' here, when the task runs
  // CHECK-FIXES: {{^}}cppcoro::task<> consume(std::string text) {{{$}}
  cppcoro::sync_wait(job);
}

// A task moved to another variable is followed.
cppcoro::task<> moved_on() {
  auto first = lookup(std::string("a"));
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: reference parameter 'key' of lazy task 'lookup' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'first' and awaited at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is awaited here
  // CHECK-NOTES: :17:63: note: 'lookup' reads 'key' here, when the task runs
  auto second = std::move(first);
  co_await second;
}

// --- Not reported.

// Awaited in the statement that made the temporary.
cppcoro::task<> awaited_in_place(std::string name) {
  co_await lookup(std::string("user:") + name);
  co_await measure(name + "!");
  int total = co_await lookup("x") + co_await sum(std::vector<int>{1, 2});
  (void)total;
}

// Locals and parameters that outlive every await of the task.
cppcoro::task<> outlives(std::string name) {
  std::string key = "user:" + name;
  auto pending = lookup(key);
  auto by_parameter = lookup(name);
  co_await pending;
  co_await by_parameter;
}

// Each iteration awaits its own task before its local dies.
cppcoro::task<> awaited_each_iteration(std::vector<std::string> names) {
  std::vector<cppcoro::task<int>> tasks;
  for (const auto &name : names) {
    std::string key = "user:" + name;
    tasks.push_back(lookup(key));
    co_await tasks.back();
  }
  auto last = lookup(std::string("last"));
  co_await last;
  // CHECK-NOTES: :[[@LINE-2]]:22: warning: reference parameter 'key' of lazy task 'lookup' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'last' and awaited at line [[@LINE-1]]
  // CHECK-NOTES: :[[@LINE-2]]:3: note: the task is awaited here
  // CHECK-NOTES: :17:63: note: 'lookup' reads 'key' here, when the task runs
  co_await last;
}

// Members and globals live on.
std::string global_key = "g";
struct Cache {
  std::string key_ = "m";
  cppcoro::task<> refresh() {
    auto a = lookup(key_);
    auto b = lookup(global_key);
    co_await a;
    co_await b;
  }
};

// A string literal has static storage.
cppcoro::task<> literal() {
  auto pending = measure("static");
  co_await pending;
}

// The parameter is never read; the task is never awaited; a new task
// replaces the stored one before it runs.
cppcoro::task<> harmless() {
  auto unread = ignore(std::string("x"));
  co_await unread;
  auto never = lookup(std::string("y"));
  auto replaced = lookup(std::string("z"));
  replaced = lookup(global_key);
  co_await replaced;
}

// Lifetime extension: the reference is the local.
cppcoro::task<> extended() {
  const std::string &key = std::string("k");
  auto pending = lookup(key);
  co_await pending;
}

// Handed to a function the check cannot follow: not reported.
void keep_somewhere(cppcoro::task<int> &&);
cppcoro::task<> unknown_fate() {
  auto pending = lookup(std::string("k"));
  keep_somewhere(std::move(pending));
  co_return;
}

// A reference member of a by-value parameter refers to something else
// (cppcoro's `operator|` passes `transform.scheduler` on).
struct Named {
  const std::string &text;
};
cppcoro::task<int> forward_member(Named named) { return lookup(named.text); }

// A value parameter copies: nothing to report.
cppcoro::task<int> by_value(std::string key) { co_return key.size(); }
cppcoro::task<> values() {
  auto pending = by_value(std::string("k"));
  co_await pending;
}
