// A template that awaits the awaiter object itself, cast to an xvalue as
// cppcoro's resume_on does: g++ 12 awaits a copy of such an operand when it
// is the right side of a comma, and the awaiter's own state never changes.
#include <coroutine>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

std::coroutine_handle<> parked;

struct awaiter {
  int state = 0;
  bool await_ready() noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    state = 42;
    parked = h;
  }
  int await_resume() noexcept { return state; }
};

awaiter make() { return {}; }

template <typename T> task awaits_cast(T) {
  auto &&aw = make();
  int r = co_await static_cast<decltype(aw)>(aw);
  std::printf("cast: resumed %d, the awaiter's state %d\n", r, aw.state);
}

// A call through a member of a dependent object: the callee has no name to
// look up (the rewriter once crashed on it, and the plugin left every such
// file uninstrumented).
struct factory {
  awaiter make() { return {}; }
};

template <typename F> task awaits_member_call(F f) {
  int r = co_await f.make();
  std::printf("member call: resumed %d\n", r);
}

// The same cast initializing an object by value (libcoro's when_any): g++ 12
// copies the bytes of a class object initialized from `(hook, co_await x)`,
// which corrupts a string, so here the hook goes on the operand.
struct text_awaiter {
  bool await_ready() noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  std::string await_resume() { return std::string(40, 'x'); }
};

template <typename A> task awaits_into_object(A a) {
  auto text = co_await static_cast<A &&>(a);
  std::printf("object: %zu\n", text.size());
}

int main() {
  awaits_cast(0);
  parked.resume();
  awaits_member_call(factory{});
  parked.resume();
  awaits_into_object(text_awaiter{});
}
