// Assertions that stay on in every build.
//
// A failed REPLSIM_ASSERT is a programmer error: a broken invariant. It calls the installed
// failure hook (the simulator installs one that prints the run's seed and the one-line command
// reproducing it), then aborts. Split `assert(a && b)` into two so the message names the part
// that failed.
#pragma once

namespace replsim {

using AssertHook = void (*)(const char* expr, const char* file, int line, const char* message);

// Installs `hook` to run before abort on an assertion failure; returns the previous hook.
// nullptr restores the default (print to stderr).
AssertHook set_assert_hook(AssertHook hook);

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* message);

}  // namespace replsim

#define REPLSIM_ASSERT(cond)                                                 \
  do {                                                                       \
    if (!(cond)) ::replsim::assert_fail(#cond, __FILE__, __LINE__, nullptr); \
  } while (0)

#define REPLSIM_ASSERT_MSG(cond, msg)                                      \
  do {                                                                     \
    if (!(cond)) ::replsim::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
