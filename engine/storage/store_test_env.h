// Test-only: the store tests' Env is sim::DiskEnv (one process over one EventLoop and one
// SimDisk, with crash()).
#pragma once

#include "sim/disk_env.h"

namespace replsim::testing {

using StoreTestEnv = sim::DiskEnv;

}  // namespace replsim::testing
