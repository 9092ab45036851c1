#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace replsim::reports {
namespace {

constexpr double kWidth = 900;
constexpr double kLeft = 70;
constexpr double kRight = 20;
constexpr double kTop = 20;
constexpr double kBottom = 40;

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", v);
  return text;
}

std::string tick_label(double v) {
  char text[32];
  if (std::fabs(v) >= 100 || v == std::floor(v)) {
    std::snprintf(text, sizeof(text), "%.0f", v);
  } else {
    std::snprintf(text, sizeof(text), "%.2g", v);
  }
  return text;
}

// A "nice" step (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`.
double nice_step(double span, int count) {
  if (!(span > 0)) return 1;
  double raw = span / count;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

struct Plot {
  double x_min, x_max, y_max, height;
  double px(double x) const {
    double span = x_max > x_min ? x_max - x_min : 1;
    return kLeft + (x - x_min) / span * (kWidth - kLeft - kRight);
  }
  double py(double y) const {
    double top = y_max > 0 ? y_max : 1;
    return kTop + (1 - y / top) * (height - kTop - kBottom);
  }
};

std::string open_svg(const std::string& id, double height) {
  return "<svg id=\"" + html_escape(id) + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         num(kWidth) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " +
         num(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
}

// Axes, x ticks, x marks and labels; y ticks when with_y.
std::string axes(const ChartFrame& frame, const Plot& plot, bool with_y) {
  std::ostringstream out;
  const double bottom = plot.height - kBottom;
  out << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(bottom) << "\" x2=\""
      << num(kWidth - kRight) << "\" y2=\"" << num(bottom) << "\" stroke=\"#333\"/>\n";
  double step = nice_step(frame.x_max - frame.x_min, 10);
  for (double x = std::ceil(frame.x_min / step) * step; x <= frame.x_max + 1e-9; x += step) {
    out << "<text x=\"" << num(plot.px(x)) << "\" y=\"" << num(bottom + 14)
        << "\" text-anchor=\"middle\">" << tick_label(x) << "</text>\n";
  }
  for (double x : frame.x_marks) {
    out << "<line x1=\"" << num(plot.px(x)) << "\" y1=\"" << num(kTop) << "\" x2=\""
        << num(plot.px(x)) << "\" y2=\"" << num(bottom)
        << "\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n";
  }
  out << "<text x=\"" << num((kLeft + kWidth - kRight) / 2) << "\" y=\"" << num(bottom + 30)
      << "\" text-anchor=\"middle\">" << html_escape(frame.x_label) << "</text>\n";
  if (with_y) {
    out << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(kTop) << "\" x2=\"" << num(kLeft)
        << "\" y2=\"" << num(bottom) << "\" stroke=\"#333\"/>\n";
    double ystep = nice_step(plot.y_max, 5);
    for (double y = 0; y <= plot.y_max + 1e-9; y += ystep) {
      out << "<text x=\"" << num(kLeft - 6) << "\" y=\"" << num(plot.py(y) + 4)
          << "\" text-anchor=\"end\">" << tick_label(y) << "</text>\n";
    }
    out << "<text x=\"14\" y=\"" << num((kTop + bottom) / 2) << "\" transform=\"rotate(-90 14 "
        << num((kTop + bottom) / 2) << ")\" text-anchor=\"middle\">" << html_escape(frame.y_label)
        << "</text>\n";
  }
  return out.str();
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string line_chart(const ChartFrame& frame, const std::vector<Series>& series) {
  double y_max = 0;
  for (const Series& s : series) {
    for (double y : s.y) y_max = std::max(y_max, y);
  }
  y_max = y_max > 0 ? nice_step(y_max, 5) * std::ceil(y_max / nice_step(y_max, 5)) : 1;
  const double height = 260;
  Plot plot{frame.x_min, frame.x_max, y_max, height};
  std::ostringstream out;
  out << open_svg(frame.id, height) << axes(frame, plot, true);
  double legend_x = kLeft + 10;
  for (const Series& s : series) {
    out << "<polyline fill=\"none\" stroke=\"" << html_escape(s.color)
        << "\" stroke-width=\"1.2\" points=\"";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      out << num(plot.px(s.x[i])) << "," << num(plot.py(s.y[i])) << " ";
    }
    out << "\"><title>" << html_escape(s.name) << "</title></polyline>\n";
    out << "<rect x=\"" << num(legend_x) << "\" y=\"" << num(kTop) << "\" width=\"10\" "
        << "height=\"10\" fill=\"" << html_escape(s.color) << "\"/><text x=\"" << num(legend_x + 14)
        << "\" y=\"" << num(kTop + 9) << "\">" << html_escape(s.name) << "</text>\n";
    legend_x += 24 + 7 * static_cast<double>(s.name.size());
  }
  out << "</svg>\n";
  return out.str();
}

std::string band_chart(const ChartFrame& frame, const std::vector<BandRow>& rows,
                       const std::vector<std::pair<std::string, std::string>>& legend) {
  const double row_height = 22;
  const double height = kTop + 20 + row_height * static_cast<double>(rows.size()) + kBottom;
  Plot plot{frame.x_min, frame.x_max, 1, height};
  std::ostringstream out;
  out << open_svg(frame.id, height) << axes(frame, plot, false);
  double legend_x = kLeft;
  for (const auto& [name, color] : legend) {
    out << "<rect x=\"" << num(legend_x) << "\" y=\"" << num(kTop - 12)
        << "\" width=\"10\" height=\"10\" fill=\"" << html_escape(color) << "\"/><text x=\""
        << num(legend_x + 14) << "\" y=\"" << num(kTop - 3) << "\">" << html_escape(name)
        << "</text>\n";
    legend_x += 24 + 7 * static_cast<double>(name.size());
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = kTop + 10 + row_height * static_cast<double>(r);
    out << "<text x=\"" << num(kLeft - 6) << "\" y=\"" << num(y + 14) << "\" text-anchor=\"end\">"
        << html_escape(rows[r].name) << "</text>\n";
    for (const Band& b : rows[r].bands) {
      const double x0 = plot.px(b.start);
      const double w = std::max(0.5, plot.px(b.end) - x0);
      out << "<rect x=\"" << num(x0) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
          << "\" height=\"" << num(row_height - 4) << "\" fill=\"" << html_escape(b.color)
          << "\"><title>" << html_escape(b.label) << "</title></rect>\n";
    }
  }
  out << "</svg>\n";
  return out.str();
}

std::string timeline(const ChartFrame& frame, const std::vector<Marker>& markers) {
  constexpr int kLanes = 4;
  const double lane_height = 18;
  const double height = kTop + lane_height * kLanes + 10 + kBottom;
  Plot plot{frame.x_min, frame.x_max, 1, height};
  std::ostringstream out;
  out << open_svg(frame.id, height) << axes(frame, plot, false);
  for (size_t i = 0; i < markers.size(); ++i) {
    const Marker& m = markers[i];
    const double y = kTop + lane_height * static_cast<double>(i % kLanes);
    const double x = plot.px(m.x);
    if (m.width > 0) {
      out << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\""
          << num(std::max(1.0, plot.px(m.x + m.width) - x)) << "\" height=\""
          << num(lane_height - 4) << "\" fill=\"#f4a582\" opacity=\"0.7\">";
    } else {
      out << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y + 7) << "\" r=\"5\" "
          << "fill=\"#d6604d\">";
    }
    out << "<title>" << html_escape(m.tooltip) << "</title>"
        << (m.width > 0 ? "</rect>" : "</circle>") << "\n";
    out << "<text x=\"" << num(x + 7) << "\" y=\"" << num(y + 11) << "\">" << html_escape(m.label)
        << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

std::string bar_chart(const std::string& id, const std::string& title,
                      const std::vector<std::string>& labels, const std::vector<double>& counts,
                      const std::string& color) {
  const double height = 200;
  double y_max = 1;
  for (double c : counts) y_max = std::max(y_max, c);
  Plot plot{0, static_cast<double>(std::max<size_t>(1, counts.size())), y_max, height};
  std::ostringstream out;
  out << open_svg(id, height);
  out << "<text x=\"" << num(kLeft) << "\" y=\"12\" font-weight=\"bold\">" << html_escape(title)
      << "</text>\n";
  const double bottom = height - kBottom;
  out << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(bottom) << "\" x2=\""
      << num(kWidth - kRight) << "\" y2=\"" << num(bottom) << "\" stroke=\"#333\"/>\n";
  for (size_t i = 0; i < counts.size(); ++i) {
    const double x0 = plot.px(static_cast<double>(i)) + 1;
    const double x1 = plot.px(static_cast<double>(i + 1)) - 1;
    const double y = plot.py(counts[i]);
    out << "<rect x=\"" << num(x0) << "\" y=\"" << num(y) << "\" width=\""
        << num(std::max(0.5, x1 - x0)) << "\" height=\"" << num(bottom - y) << "\" fill=\""
        << html_escape(color) << "\"><title>" << html_escape(labels[i]) << ": "
        << tick_label(counts[i]) << "</title></rect>\n";
    out << "<text x=\"" << num((x0 + x1) / 2) << "\" y=\"" << num(bottom + 14)
        << "\" text-anchor=\"middle\" font-size=\"9\">" << html_escape(labels[i]) << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace replsim::reports
