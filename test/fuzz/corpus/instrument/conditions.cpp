task<int> f(int v) {
  int s = 0;
  if (co_await value(v) > 1) s += 1;
  if (int x = co_await value(v); x > 0) s += x;
  while (co_await value(s) < 10) s += 3;
  for (int i = co_await value(0); i < co_await value(2); i += co_await value(1)) s += i;
  switch (co_await value(v)) { default: break; }
  co_return s;
}
