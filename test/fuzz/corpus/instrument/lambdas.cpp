task<int> f() {
  auto outer = [&](int a) -> task<int> {
    auto inner = [](int b) -> task<int> { co_return co_await value(b); };
    co_return co_await inner(a);
  };
  co_return co_await outer(1) + co_await [&]() -> task<int> { co_return 1; }();
}
