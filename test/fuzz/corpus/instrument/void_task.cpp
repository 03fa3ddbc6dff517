task<void> f(int &out) { out = co_await value(7); if (out > 1) co_return; out += 1; }
