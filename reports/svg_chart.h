// Small inline-SVG chart primitives for the self-contained HTML report (no scripts, no
// network). Every function returns one complete <svg> element with the given id.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace replsim::reports {

std::string html_escape(std::string_view text);

struct Series {
  std::string name;
  std::string color;      // CSS color
  std::vector<double> x;  // same length as y; x increasing
  std::vector<double> y;
};

struct Band {
  double start = 0;
  double end = 0;
  std::string label;  // shown in the tooltip
  std::string color;
};

struct BandRow {
  std::string name;
  std::vector<Band> bands;
};

struct Marker {
  double x = 0;
  double width = 0;   // 0: an instant
  std::string label;  // short, drawn next to the marker
  std::string tooltip;
};

struct ChartFrame {
  std::string id;
  std::string x_label;
  std::string y_label;
  double x_min = 0;
  double x_max = 1;
  std::vector<double> x_marks;  // vertical dashed lines (phase boundaries)
};

// Lines on a linear y axis from 0 to the largest value.
std::string line_chart(const ChartFrame& frame, const std::vector<Series>& series);
// One row of colored bands per entry (state over time), with a legend of `legend` colors.
std::string band_chart(const ChartFrame& frame, const std::vector<BandRow>& rows,
                       const std::vector<std::pair<std::string, std::string>>& legend);
// Markers on one time axis, labels staggered over a few lanes.
std::string timeline(const ChartFrame& frame, const std::vector<Marker>& markers);
// Bars: counts per bucket, bucket labels under the bars.
std::string bar_chart(const std::string& id, const std::string& title,
                      const std::vector<std::string>& labels, const std::vector<double>& counts,
                      const std::string& color);

}  // namespace replsim::reports
