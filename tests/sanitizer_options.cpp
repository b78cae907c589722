// Default sanitizer options of every unit-test executable of a STRATA_SANITIZE build
// (cmake/strata.cmake adds this file). The runtimes call these hooks before main; the
// environment variables ASAN_OPTIONS / UBSAN_OPTIONS are applied after them and win.
//
//  - detect_stack_use_after_return: catches a pointer to a dead stack frame (a span or
//    string_view of a local returned by value), off by default in GCC 12's runtime.
//  - check_initialization_order / strict_init_order: static initialisation order bugs.
//  - detect_leaks: LeakSanitizer (on by default on x86-64 Linux; stated so it stays on).
//  - UBSan print_stacktrace: a finding names its call path, not only the faulting line.
extern "C" const char* __asan_default_options() {
  return "detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_leaks=1";
}

extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
