template <typename T> task<T> twice(T v) { T a = co_await value(v); co_return a + co_await value(v); }
struct S { task<int> m() { co_return co_await value(k); } int k = 1; task<int> n(); };
task<int> S::n() { co_return co_await m(); }
