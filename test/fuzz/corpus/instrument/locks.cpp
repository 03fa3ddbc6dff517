std::mutex mu, other;
struct S {
  std::mutex m_;
  task<int> f() {
    std::lock_guard<std::mutex> g(m_);
    int v = co_await task<int>();
    if (mu.try_lock())
      mu.unlock();
    co_return v;
  }
};
void plain() {
  std::scoped_lock a(mu);
  other.lock();
  other.unlock();
}
