const char *s = "keep /*coroscope:*/ X /*:coroscope*/ end";
task<int> f() { // /*:coroscope*/
  const char *r = R"(/*coroscope:*/)"; co_return co_await value(r[0]); }
