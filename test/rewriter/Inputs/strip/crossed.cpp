// A body that ends inside a suspension.
cppcoro::task<int> f() {/*coroscope:*/COROSCOPE_I_BODY("f.cpp", "f", 2, 20) COROSCOPE_TRY {/*:coroscope*/ co_return /*coroscope:*/(COROSCOPE_I_AWAIT_HERE(false), /*:coroscope*/co_await g(); /*coroscope:*/COROSCOPE_I_END } COROSCOPE_CATCH/*:coroscope*/}
