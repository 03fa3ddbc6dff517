/*coroscope:*/#include <coroscope/coroscope.hpp>
#line 1
/*:coroscope*/task<int> f() {/*coroscope:*/COROSCOPE_I_BODY("f.cpp", "f", 1, 11, COROSCOPE_I_SITE(await, 1, 27, true)) COROSCOPE_TRY {/*:coroscope*/ /*coroscope:*/COROSCOPE_I_RETURN /*:coroscope*/co_return /*coroscope:*/(COROSCOPE_I_AT(1), /*:coroscope*/co_await value(1)/*coroscope:*/)/*:coroscope*/; /*coroscope:*/COROSCOPE_I_END } COROSCOPE_CATCH/*:coroscope*/}
task<int> g() { co_return co_await value(2); }
