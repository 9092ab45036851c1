#include "engine/assert.h"

#include <cstdio>
#include <cstdlib>

namespace replsim {
namespace {
AssertHook g_hook = nullptr;
}  // namespace

AssertHook set_assert_hook(AssertHook hook) {
  AssertHook previous = g_hook;
  g_hook = hook;
  return previous;
}

void assert_fail(const char* expr, const char* file, int line, const char* message) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d%s%s\n", expr, file, line, message ? ": " : "",
               message ? message : "");
  if (g_hook != nullptr) g_hook(expr, file, line, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace replsim
