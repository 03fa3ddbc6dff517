// A site number the body does not have.
cppcoro::task<int> f() {/*coroscope:*/COROSCOPE_I_BODY("f.cpp", "f", 2, 20, COROSCOPE_I_SITE(await, 2, 30, true)) COROSCOPE_TRY {/*:coroscope*/ co_return /*coroscope:*/(COROSCOPE_I_AT(2), /*:coroscope*/co_await g()/*coroscope:*/)/*:coroscope*/; /*coroscope:*/COROSCOPE_I_END } COROSCOPE_CATCH/*:coroscope*/}
