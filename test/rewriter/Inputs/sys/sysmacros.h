// Stands in for a system header (included with -isystem): never rewritten.
#pragma once
#define SYS_AWAIT(x) co_await x
