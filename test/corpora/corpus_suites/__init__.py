"""The layers of suites.py (beside this package, the entry point and its command line), one job each:

- model: constants (libraries, modes, compilers, link templates, test statuses) and the records
- process: logging, commands with timeouts and process-group kills, network namespaces, WORK, the environment
- sources: the extracted trees, the c-ares shim, asio's generated project, per-library CMake settings
- build: configure, build (ninja), ninja's failures, the rewriter's instrumented copy
- tests: JUnit, ctest, Catch2 (libcoro), asio's echo server test, run_tests
- compare: coroscope report totals, an instrumented mode against its baseline
- output: the printed tables and lists, totals, the JSON file
- pipeline: one library in one mode from configure to comparison
"""
