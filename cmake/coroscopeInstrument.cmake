# coroscope_instrument(<target> [HEADER_FILTER <regex>]
#                      [LIBRARY_NAMESPACES <ns;ns...>] [LIBRARY_PATHS <regex>]
#                      [ENGINE ir|source])
#
# Instruments every coroutine of <target>'s C++ sources with the compiler
# plugin (no source change) and links the runtime tracker. Coroutines of
# libraries (by namespace and path, docs/tools/instrument.md) are not
# tracked. The target must be
# compiled by the clang++ of the LLVM coroscope was built against; for other
# compilers, use the source-to-source step, `coroscope instrument`.
function(coroscope_instrument target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG ""
    "HEADER_FILTER;LIBRARY_NAMESPACES;LIBRARY_PATHS;ENGINE" "")
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR
     NOT CMAKE_CXX_COMPILER_VERSION MATCHES "^${COROSCOPE_LLVM_VERSION}\\.")
    message(FATAL_ERROR "coroscope_instrument(${target}): the plugin needs "
      "clang++-${COROSCOPE_LLVM_VERSION} (this build uses "
      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}); set "
      "CMAKE_CXX_COMPILER, or use `coroscope instrument` for other compilers")
  endif()
  set(flags "-fplugin=$<TARGET_FILE:coroscope::instrument-plugin>")
  foreach(option HEADER_FILTER LIBRARY_NAMESPACES LIBRARY_PATHS ENGINE)
    if(DEFINED ARG_${option})
      string(TOLOWER "${option}" argument)
      string(REPLACE "_" "-" argument "${argument}")
      # A ';' would split the flag here and end a command in a shell.
      string(REPLACE ";" "," value "${ARG_${option}}")
      list(APPEND flags "-fplugin-arg-coroscope-${argument}=${value}")
    endif()
  endforeach()
  target_compile_options(${target} PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:${flags}>")
  target_link_libraries(${target} PRIVATE coroscope::runtime)
  # Inside coroscope's own tree the plugin is built first, and a new plugin
  # compiles the target again.
  if(TARGET coroscope-instrument-plugin)
    add_dependencies(${target} coroscope-instrument-plugin)
    get_target_property(plugin_dir coroscope-instrument-plugin LIBRARY_OUTPUT_DIRECTORY)
    get_target_property(sources ${target} SOURCES)
    set_property(SOURCE ${sources} TARGET_DIRECTORY ${target} APPEND PROPERTY
      OBJECT_DEPENDS ${plugin_dir}/libcoroscope-instrument.so)
  endif()
endfunction()
