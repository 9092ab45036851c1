// Swarm results as JUnit XML, the format CI systems display (GitHub Actions reporters, GitLab,
// Jenkins): one <testsuite> per scenario, one <testcase> per seed. A failing seed's <failure>
// names each failed checker, its message and first offending event, and the reproduce
// command; a crashed run (exit > 1, no summary) is an <error>; each range of seeds with no
// result is one <testcase> with <skipped>. The shape is cli/testdata/junit.xsd.
#pragma once

#include <string>
#include <vector>

#include "engine/status.h"
#include "proto/summary.pb.h"

namespace replsim::cli {

std::string junit_xml(const std::vector<proto::SwarmResult>& results);

[[nodiscard]] Status write_junit(const std::string& path,
                                 const std::vector<proto::SwarmResult>& results);

}  // namespace replsim::cli
