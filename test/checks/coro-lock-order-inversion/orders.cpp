// RUN: %check_coro_tidy %s coro-lock-order-inversion %t

// Synchronous locks: cycles of two and three lock classes, through calls,
// members, globals and function-local statics; what adds no order (joint
// acquisition, try_lock, a lock released first, another class's field of the
// same name); self-deadlocks; NOLINT.

#include <mutex>
#include <pthread.h>
#include <shared_mutex>

// Two members of one class, the second one through a call.
class Ledger {
public:
  void post() {
    std::lock_guard<std::mutex> accounts(accounts_mu_);
    flush();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: locks 'Ledger::accounts_mu_' and 'Ledger::audit_mu_' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
    // CHECK-NOTES: :[[@LINE-2]]:5: note: 'Ledger::accounts_mu_' then 'Ledger::audit_mu_' in 'Ledger::post' at {{.*}}:[[@LINE-2]], via 'Ledger::flush' at {{.*}}:[[@LINE+9]]
  }
  void audit() {
    std::unique_lock<std::mutex> audit(audit_mu_);
    std::lock_guard<std::mutex> accounts(accounts_mu_);
    // CHECK-NOTES: :[[@LINE-1]]:33: note: 'Ledger::audit_mu_' then 'Ledger::accounts_mu_' in 'Ledger::audit' at {{.*}}:[[@LINE-1]]
  }

private:
  void flush() { std::lock_guard<std::mutex> audit(audit_mu_); }
  std::mutex accounts_mu_;
  std::mutex audit_mu_;
};

// Three globals in a cycle, each pair in a different function; one order
// is taken by hand. The warning is at the order that leaves the smallest
// lock name.
std::mutex orders_mu, stock_mu, billing_mu;
void bill() {
  billing_mu.lock();
  orders_mu.lock();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: locks 'billing_mu' -> 'orders_mu' -> 'stock_mu' -> 'billing_mu' are acquired in a cycle; threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES: :[[@LINE-2]]:3: note: 'billing_mu' then 'orders_mu' in 'bill' at {{.*}}:[[@LINE-2]]
  orders_mu.unlock();
  billing_mu.unlock();
}
void reserve() {
  std::lock_guard a(orders_mu);
  std::lock_guard b(stock_mu);
  // CHECK-NOTES: :[[@LINE-1]]:19: note: 'orders_mu' then 'stock_mu' in 'reserve' at {{.*}}:[[@LINE-1]]
}
void restock() {
  std::lock_guard b(stock_mu);
  std::lock_guard c(billing_mu);
  // CHECK-NOTES: :[[@LINE-1]]:19: note: 'stock_mu' then 'billing_mu' in 'restock' at {{.*}}:[[@LINE-1]]
}

// A shared_lock, through two levels of calls.
std::shared_mutex config_mu;
std::mutex cache_mu;
void touch_cache() { std::lock_guard g(cache_mu); }
void refresh() { touch_cache(); }
void reload() {
  std::shared_lock read(config_mu);
  refresh();
}
void persist() {
  std::lock_guard g(cache_mu);
  std::shared_lock read(config_mu);
  // CHECK-NOTES: :[[@LINE-1]]:20: warning: locks 'cache_mu' and 'config_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES: :[[@LINE-2]]:20: note: 'cache_mu' then 'config_mu' in 'persist' at {{.*}}:[[@LINE-2]]
  // CHECK-NOTES: :[[@LINE-7]]:3: note: 'config_mu' then 'cache_mu' in 'reload' at {{.*}}:[[@LINE-7]], via 'refresh' at {{.*}}:[[@LINE-10]], via 'touch_cache' at {{.*}}:[[@LINE-11]]
}
// Locking a shared_mutex twice on one thread is undefined, and deadlocks
// as soon as a writer waits between the two.
void nested_read() {
  std::shared_lock a(config_mu);
  std::shared_lock b(config_mu);
  // CHECK-NOTES: :[[@LINE-1]]:20: warning: 'config_mu' is locked again in 'nested_read' while it is already held; a non-recursive mutex deadlocks on its own thread [coro-lock-order-inversion]
  // CHECK-NOTES: :[[@LINE-3]]:20: note: 'config_mu' is first locked here
}

// A function's static is one lock class, named after the function.
std::mutex file_mu;
void rotate() {
  static std::mutex log_mu;
  {
    std::lock_guard a(log_mu);
    std::lock_guard b(file_mu);
  }
  {
    std::lock_guard b(file_mu);
    std::lock_guard a(log_mu);
    // CHECK-NOTES: :[[@LINE-1]]:21: warning: locks 'file_mu' and 'rotate::log_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
    // CHECK-NOTES: :[[@LINE-2]]:21: note: 'file_mu' then 'rotate::log_mu' in 'rotate' at {{.*}}:[[@LINE-2]]
    // CHECK-NOTES: :[[@LINE-7]]:21: note: 'rotate::log_mu' then 'file_mu' in 'rotate' at {{.*}}:[[@LINE-7]]
  }
}

// pthread mutexes, and a parameter that every caller binds to one global.
pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
std::mutex index_mu;
void with_table(pthread_mutex_t *m) {
  pthread_mutex_lock(m);
  pthread_mutex_unlock(m);
}
void insert() {
  std::lock_guard g(index_mu);
  with_table(&table_mu);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: locks 'index_mu' and 'table_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES: :[[@LINE-2]]:3: note: 'index_mu' then 'table_mu' in 'insert' at {{.*}}:[[@LINE-2]], via 'with_table' at {{.*}}:[[@LINE-7]]
}
void scan() {
  pthread_mutex_lock(&table_mu);
  index_mu.lock();
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'table_mu' then 'index_mu' in 'scan' at {{.*}}:[[@LINE-1]]
  index_mu.unlock();
  pthread_mutex_unlock(&table_mu);
}

// A parameter bound to two different locks is unknown: no order.
std::mutex left_mu, right_mu;
void lock_one(std::mutex &m) { std::lock_guard g(m); }
void left_then_any() {
  std::lock_guard g(left_mu);
  lock_one(right_mu);
}
void right_then_left() {
  std::lock_guard g(right_mu);
  lock_one(left_mu);
}

// ---- No order, no cycle -------------------------------------------------

// Joint acquisition orders nothing.
std::mutex from_mu, to_mu;
void joint_scoped() { std::scoped_lock both(from_mu, to_mu); }
void joint_std_lock() {
  std::lock(to_mu, from_mu);
  std::lock_guard a(to_mu, std::adopt_lock);
  std::lock_guard b(from_mu, std::adopt_lock);
}
void nested_once() {
  std::lock_guard a(to_mu);
  std::lock_guard b(from_mu);
}

// try_lock may fail instead of waiting: it orders nothing.
std::mutex try_a, try_b;
void try_second() {
  std::lock_guard a(try_a);
  if (try_b.try_lock())
    try_b.unlock();
  std::unique_lock b(try_b, std::try_to_lock);
}
void try_other_way() {
  std::lock_guard b(try_b);
  std::lock_guard a(try_a);
}

// Released before the next one is taken.
std::mutex first_mu, second_mu;
void release_then_take() {
  std::unique_lock a(first_mu);
  a.unlock();
  std::lock_guard b(second_mu);
}
void move_then_take() {
  std::unique_lock a(first_mu);
  auto handed_off = std::move(a);
  handed_off.unlock();
  std::lock_guard b(second_mu);
}
void scoped_then_take() {
  { std::lock_guard a(first_mu); }
  first_mu.lock();
  first_mu.unlock();
  std::lock_guard b(second_mu);
}
void take_reverse() {
  std::lock_guard b(second_mu);
  std::lock_guard a(first_mu);
}

// The same order everywhere.
std::mutex outer_mu, inner_mu;
void consistent_one() {
  std::lock_guard a(outer_mu);
  std::lock_guard b(inner_mu);
}
void consistent_two() {
  std::unique_lock a(outer_mu);
  inner_mu.lock();
  inner_mu.unlock();
}

// Same field name in two classes: two lock classes.
struct Left {
  std::mutex mu_, aux_;
  void f() {
    std::lock_guard a(mu_);
    std::lock_guard b(aux_);
  }
};
struct Right {
  std::mutex mu_, aux_;
  void g() {
    std::lock_guard b(aux_);
    std::lock_guard a(mu_);
  }
};

// One class, two objects: ordered by the caller, not by the class. Like
// lockdep, the check does not order a lock class against itself.
struct Account {
  std::mutex mu_;
  long balance = 0;
};
void transfer(Account &from, Account &to, long amount) {
  std::lock_guard a(from.mu_);
  std::lock_guard b(to.mu_);
  from.balance -= amount;
  to.balance += amount;
}

// ---- Self-deadlocks ------------------------------------------------------

class Cache {
public:
  void put() {
    std::lock_guard g(mu_);
    std::lock_guard again(mu_);
    // CHECK-NOTES: :[[@LINE-1]]:21: warning: 'Cache::mu_' is locked again in 'Cache::put' while it is already held; a non-recursive mutex deadlocks on its own thread [coro-lock-order-inversion]
    // CHECK-NOTES: :[[@LINE-3]]:21: note: 'Cache::mu_' is first locked here
  }
  void get() {
    std::lock_guard g(mu_);
    evict_one();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: 'Cache::mu_' is locked again in 'Cache::get' while it is already held, through a call to 'Cache::evict_one'; a non-recursive mutex deadlocks on its own thread [coro-lock-order-inversion]
    // CHECK-NOTES: :[[@LINE-3]]:21: note: 'Cache::mu_' is first locked here
    // CHECK-NOTES: :[[@LINE+3]]:34: note: 'Cache::evict_one' locks 'Cache::mu_' here
  }
  void evict_one() {
    std::unique_lock<std::mutex> g(mu_);
  }
  // Another object's lock, and a recursive mutex: fine.
  void copy_from(Cache &other) {
    std::lock_guard g(mu_);
    other.evict_one();
  }
  void walk() {
    std::lock_guard g(rmu_);
    std::lock_guard again(rmu_);
  }

private:
  std::mutex mu_;
  std::recursive_mutex rmu_;
};

// NOLINT on the warning's line silences the cycle.
std::mutex quiet_a, quiet_b;
void quiet_one() {
  std::lock_guard a(quiet_a);
  std::lock_guard b(quiet_b); // NOLINT(coro-lock-order-inversion)
}
void quiet_two() {
  std::lock_guard b(quiet_b);
  std::lock_guard a(quiet_a);
}
