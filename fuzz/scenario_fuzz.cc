// libFuzzer target: the scenario loader (scenarios/scenario_file.h): protobuf text format, then
// the semantic checks (scenario_validate.cc) and the defaults.
// Properties: a refusal is kInvalidArgument whose message starts with the file name (and, for
// a syntax error, "file:line:col"); an accepted scenario has a finite, non-negative duration
// and prints back to text that loads to the same scenario.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <string>

#include "fuzz/fuzz_util.h"
#include "scenarios/scenario_file.h"

namespace replsim::fuzz {
namespace {

const std::string kFile = "fuzz.textproto";

void run(Input in) {
  const std::string_view text = in.rest();
  (void)scenarios::one_line_description(text);
  Result<proto::Scenario> s = scenarios::parse_scenario(text, kFile);
  if (!s.is_ok()) {
    check_refusal(s.status(), StatusCode::kInvalidArgument, "scenario");
    FUZZ_CHECK(s.status().message().rfind(kFile + ":", 0) == 0,
               "refusal does not name the file: " + s.status().message());
    return;
  }
  const double total_s = scenarios::total_duration_s(*s);
  FUZZ_CHECK(std::isfinite(total_s) && total_s >= 0,
             "accepted duration " + std::to_string(total_s));
  std::string printed;
  FUZZ_CHECK(google::protobuf::TextFormat::PrintToString(*s, &printed), "print");
  Result<proto::Scenario> back = scenarios::parse_scenario(printed, kFile);
  FUZZ_CHECK(back.is_ok(), "an accepted scenario printed back is refused: " +
                               back.status().to_string() + "\n" + printed);
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*s, *back),
             "an accepted scenario printed back loads differently");
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
