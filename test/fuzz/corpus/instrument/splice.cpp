task<int> f() { int a = 12 /\
co_await value(3); co_return a + co_aw\
ait value(1); }
