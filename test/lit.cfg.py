# lit configuration for coroscope's check, tool and (later) rewriter tests.
import os

import lit.formats

config.name = "coroscope"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".cpp", ".test"]
# runtime/ and install/ hold GoogleTest and CMake sources, not lit tests.
config.excludes = ["Inputs", "include", "CMakeLists.txt", "asio_tracked.cpp", "runtime", "install"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.coroscope_binary_dir, "test")

llvm_bin = config.llvm_tools_dir
config.environment["PATH"] = os.pathsep.join(
    [llvm_bin, config.environment.get("PATH", "")])

include_dir = os.path.join(config.test_source_root, "include")
runner = " ".join([
    config.python_executable,
    os.path.join(config.test_source_root, "check_coro_tidy.py"),
    "--clang-tidy", config.clang_tidy,
    "--plugin", config.tidy_plugin,
    "--coroscope-tidy", config.coroscope_tidy,
    "--filecheck", os.path.join(llvm_bin, "FileCheck"),
    "--include", include_dir,
])
config.substitutions += [
    ("%check_coro_tidy", runner),
    ("%coroscope_tidy", config.coroscope_tidy),
    ("%coroscope_cmd", config.coroscope),
    ("%clang_tidy_plugin", config.clang_tidy + " -load=" + config.tidy_plugin),
    ("%clang_tidy", config.clang_tidy),
    ("%clangxx", config.clangxx),
    ("%test_include", include_dir),
    # Debian's Asio 1.22 enables co_await for g++ only; clang needs this.
    ("%asio_flags", "-DASIO_HAS_CO_AWAIT"),
    ("%python", config.python_executable),
    ("%examples", os.path.join(config.coroscope_source_dir, "examples")),
    # The example server built with the plugin (examples/CMakeLists.txt).
    ("%jobqueue_instrumented",
     os.path.join(config.coroscope_binary_dir, "examples", "jobqueue-instrumented")),
    ("%run_clang_tidy", os.path.join(llvm_bin, "run-clang-tidy")),
    ("%clang_apply_replacements", os.path.join(llvm_bin, "clang-apply-replacements")),
]
runtime_include = os.path.join(config.coroscope_source_dir, "runtime", "include")
config.substitutions += [
    # Building instrumented programs: the plugin, and the runtime built by
    # the project's clang and by g++.
    ("%instrument_plugin", config.instrument_plugin),
    ("%runtime_include", runtime_include),
    ("%runtime_libs", config.runtime_libs + " -pthread"),
    ("%gxx_runtime_libs", config.gxx_runtime_libs + " -pthread"),
    ("%gxx", config.gxx),
    ("%system_python", config.system_python),
    ("%FileCheck", os.path.join(llvm_bin, "FileCheck")),
    ("%sarif_schema", config.sarif_schema),
]
if config.tsan_runtime:
    # Programs built under ThreadSanitizer, with the runtime built so too.
    config.available_features.add("tsan")
    config.substitutions.append(
        ("%tsan_runtime_libs", "-Wl,--undefined=coroscope_runtime_link " +
         config.tsan_runtime + " -fsanitize=thread -pthread"))
config.available_features.add("llvm-%d" % config.llvm_version_major)
if os.geteuid() == 0:
    config.available_features.add("root")
    # A tiny tmpfs in a private mount namespace: a disk that fills up.
    import subprocess
    if subprocess.run(["unshare", "-m", "sh", "-c",
                       "mount -t tmpfs -o size=4k tmpfs /mnt"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
        config.available_features.add("private-tmpfs")
