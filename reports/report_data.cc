#include "reports/report_data.h"

#include <algorithm>
#include <cmath>

namespace replsim::reports {

bool ReportData::passed() const {
  if (!error.empty()) return false;
  for (const CheckOutcome& c : checks) {
    if (!c.passed && !c.skipped) return false;
  }
  return true;
}

std::string ReportData::cluster_name(uint32_t cluster) const {
  if (cluster < cluster_names.size()) return cluster_names[cluster];
  std::string name = "c";
  name.append(std::to_string(cluster));
  return name;
}

std::string ReportData::node_name(uint32_t node) const {
  const uint32_t per = nodes_per_cluster == 0 ? 1 : nodes_per_cluster;
  std::string name = cluster_name(node / per);
  name.push_back('/');
  name.append(std::to_string(node % per));
  return name;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(q * static_cast<double>(values.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

}  // namespace replsim::reports
