// Project macros that suspend: instrumented once, in their definitions.
#pragma once
#define AWAIT(x) co_await x
#define RETURN_AWAITED(x) co_return co_await x
