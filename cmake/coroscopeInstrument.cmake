# coroscope_instrument(<target> [HEADER_FILTER <regex>])
#
# Instruments every coroutine of <target>'s C++ sources with the compiler
# plugin (no source change) and links the runtime tracker. The target must be
# compiled by the clang++ of the LLVM coroscope was built against; for other
# compilers, use the source-to-source step, `coroscope instrument`.
function(coroscope_instrument target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "HEADER_FILTER" "")
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR
     NOT CMAKE_CXX_COMPILER_VERSION MATCHES "^${COROSCOPE_LLVM_VERSION}\\.")
    message(FATAL_ERROR "coroscope_instrument(${target}): the plugin needs "
      "clang++-${COROSCOPE_LLVM_VERSION} (this build uses "
      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}); set "
      "CMAKE_CXX_COMPILER, or use `coroscope instrument` for other compilers")
  endif()
  set(flags "-fplugin=$<TARGET_FILE:coroscope::instrument-plugin>")
  if(ARG_HEADER_FILTER)
    list(APPEND flags "-fplugin-arg-coroscope-header-filter=${ARG_HEADER_FILTER}")
  endif()
  target_compile_options(${target} PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:${flags}>")
  target_link_libraries(${target} PRIVATE coroscope::runtime)
  # Inside coroscope's own tree the plugin is built first.
  if(TARGET coroscope-instrument-plugin)
    add_dependencies(${target} coroscope-instrument-plugin)
  endif()
endfunction()
