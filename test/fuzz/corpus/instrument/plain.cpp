task<int> f(int v) {
  int a = co_await value(v);
  co_return a + 1;
}
