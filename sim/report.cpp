#include "sim/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace pl::sim {

namespace fs = std::filesystem;
using nlohmann::json;

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

namespace {

std::vector<double> latencies(const run_report& r) {
  std::vector<double> out;
  for (const auto& c : r.convergence)
    out.push_back(c.latency);
  return out;
}

json series(const std::vector<series_point>& s) {
  json out = json::array();
  for (const auto& p : s)
    out.push_back({p.t, p.value});
  return out;
}

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
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

std::string num(double v, int precision = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << v;
  return out.str();
}

std::string hours(double seconds) {
  return num(seconds / 3600.0, seconds < 7200 ? 2 : 1) + " h";
}

// ---------------------------------------------------------------------------
// Inline SVG plots

// L leaves room for the fault lanes' names ("broken node") left of the plot.
constexpr int W = 720, H = 220, L = 84, R = 20, T = 24, B = 36;

/// Returns a round top for a count axis starting at 0 (a multiple of 1, 2, 2.5 or 5 times a
/// power of ten, the smallest at least 2% above `max`) and sets `intervals` to 3-6 gridlines.
double round_top(double max, int& intervals) {
  max = std::max(max, 1.0) * 1.02;
  double best = 0;
  for (double mag = std::pow(10.0, std::floor(std::log10(max / 6))); mag <= max; mag *= 10)
    for (double step : {1.0, 2.0, 2.5, 5.0}) {
      int n = static_cast<int>(std::ceil(max / (step * mag)));
      if (n >= 3 && n <= 6 && (best == 0 || n * step * mag < best)) {
        best = n * step * mag;
        intervals = n;
      }
    }
  return best;
}

/// Formats a time-axis tick ("1h15m") from seconds.
std::string tick_time(double seconds) {
  return format_duration(static_cast<sim_seconds>(std::llround(seconds)));
}

struct axes {
  double x0, x1, y0, y1;
  int y_intervals = 4;
  int x_intervals = 4;
  double px(double x) const { return L + (x - x0) / std::max(1e-9, x1 - x0) * (W - L - R); }
  double py(double y) const { return H - B - (y - y0) / std::max(1e-9, y1 - y0) * (H - T - B); }
};

std::string frame(const std::string& title, const axes& a, const std::string& xlabel,
                  const std::string& ylabel, bool time_axis) {
  std::ostringstream s;
  s << "<text x='" << L << "' y='16' class='t'>" << esc(title) << "</text>";
  s << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B
    << "' class='ax'/>";
  s << "<line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B << "' class='ax'/>";
  for (int k = 0; k <= a.y_intervals; ++k) {
    double y = a.y0 + (a.y1 - a.y0) * k / a.y_intervals;
    s << "<text x='" << L - 6 << "' y='" << a.py(y) + 4 << "' class='yl'>"
      << num(y, a.y1 - a.y0 < 10 ? 1 : 0) << "</text>";
    s << "<line x1='" << L << "' y1='" << a.py(y) << "' x2='" << W - R << "' y2='" << a.py(y)
      << "' class='grid'/>";
  }
  for (int k = 0; k <= a.x_intervals; ++k) {
    double x = a.x0 + (a.x1 - a.x0) * k / a.x_intervals;
    s << "<text x='" << a.px(x) << "' y='" << H - B + 16 << "' class='xl'>"
      << (time_axis ? tick_time(x) : num(x, a.x1 - a.x0 < 10 ? 1 : 0)) << "</text>";
  }
  s << "<text x='" << (L + W - R) / 2 << "' y='" << H - 4 << "' class='xl'>" << esc(xlabel)
    << "</text>";
  s << "<text x='12' y='" << (T + H - B) / 2 << "' class='yl' transform='rotate(-90 12 "
    << (T + H - B) / 2 << ")'>" << esc(ylabel) << "</text>";
  return s.str();
}

std::string svg_open() {
  return "<svg width='" + std::to_string(W) + "' height='" + std::to_string(H) + "' viewBox='0 0 " +
         std::to_string(W) + " " + std::to_string(H) + "'>";
}

std::string line_chart(const std::vector<series_point>& s, const std::string& title,
                       const std::string& ylabel, const std::vector<fault_record>* shade) {
  std::ostringstream out;
  out << svg_open();
  double x1 = s.empty() ? 1 : std::max(1.0, s.back().t);
  double y1 = 1;
  for (const auto& p : s)
    y1 = std::max(y1, p.value);
  axes a{0, x1, 0, 0};
  a.y1 = round_top(y1, a.y_intervals);
  if (shade)
    for (const auto& f : *shade)
      if (f.kind == "PLC outage" || f.kind == "partition")
        out << "<rect x='" << a.px(f.at) << "' y='" << T << "' width='"
            << std::max(1.0, a.px(f.until) - a.px(f.at)) << "' height='" << H - T - B << "' class='"
            << (f.kind == "PLC outage" ? "outage" : "part") << "'/>";
  out << frame(title, a, "virtual time", ylabel, true);
  out << "<polyline class='line' points='";
  for (const auto& p : s)
    out << num(a.px(p.t), 1) << "," << num(a.py(p.value), 1) << " ";
  out << "'/></svg>";
  return out.str();
}

std::string histogram(const std::vector<double>& values, const std::string& title) {
  std::ostringstream out;
  out << svg_open();
  if (values.empty()) {
    out << "<text x='" << L << "' y='60' class='t'>" << esc(title)
        << ": no change reached a node</text></svg>";
    return out.str();
  }
  int x_intervals = 4;
  double hi = round_top(*std::max_element(values.begin(), values.end()), x_intervals);
  const int bins = 30;
  std::vector<int> count(bins, 0);
  for (double v : values)
    ++count[std::min(bins - 1, static_cast<int>(v / hi * bins))];
  int top = *std::max_element(count.begin(), count.end());
  axes a{0, hi, 0, 0};
  a.x_intervals = x_intervals;
  a.y1 = round_top(top, a.y_intervals);
  out << frame(title, a, "seconds from commit at PLC to applied on the node", "changes", false);
  for (int b = 0; b < bins; ++b) {
    double x = hi * b / bins, xe = hi * (b + 1) / bins;
    out << "<rect class='bar' x='" << num(a.px(x), 1) << "' y='" << num(a.py(count[b]), 1)
        << "' width='" << num(std::max(1.0, a.px(xe) - a.px(x) - 1), 1) << "' height='"
        << num(a.py(0) - a.py(count[b]), 1) << "'/>";
  }
  // The cumulative share on the same x axis, scaled to the plot's height.
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  out << "<polyline class='cdf' points='";
  for (int k = 0; k <= 100; ++k) {
    double v = sorted[std::min(sorted.size() - 1, sorted.size() * k / 100)];
    out << num(a.px(v), 1) << "," << num(a.py(a.y1 * k / 100.0), 1) << " ";
  }
  out << "'/>";
  for (double p : {50.0, 90.0, 99.0}) {
    double v = percentile(values, p);
    out << "<line class='pct' x1='" << num(a.px(v), 1) << "' y1='" << T << "' x2='"
        << num(a.px(v), 1) << "' y2='" << H - B << "'/><text class='yl' x='" << num(a.px(v), 1)
        << "' y='" << T + 10 << "'>p" << static_cast<int>(p) << "</text>";
  }
  out << "</svg>";
  return out.str();
}

std::string fault_timeline(const run_report& r) {
  std::vector<std::string> lanes = {"PLC outage", "partition", "crash", "broken node", "violation"};
  const int lane_h = 22;
  int h = T + lane_h * static_cast<int>(lanes.size()) + B;
  std::ostringstream out;
  out << "<svg width='" << W << "' height='" << h << "' viewBox='0 0 " << W << " " << h << "'>";
  axes a{0, std::max(1.0, r.virtual_seconds), 0, 1};
  out << "<text x='" << L << "' y='16' class='t'>Faults on the timeline</text>";
  for (std::size_t k = 0; k < lanes.size(); ++k) {
    int y = T + lane_h * static_cast<int>(k);
    out << "<text x='" << L - 6 << "' y='" << y + 15 << "' class='yl'>" << lanes[k]
        << "</text><line class='grid' x1='" << L << "' y1='" << y + lane_h << "' x2='" << W - R
        << "' y2='" << y + lane_h << "'/>";
  }
  auto lane_of = [&](const std::string& kind) {
    for (std::size_t k = 0; k < lanes.size(); ++k)
      if (lanes[k] == kind)
        return static_cast<int>(k);
    return 0;
  };
  for (const auto& f : r.faults) {
    int y = T + lane_h * lane_of(f.kind) + 4;
    out << "<rect class='f" << lane_of(f.kind) << "' x='" << num(a.px(f.at), 1) << "' y='" << y
        << "' width='" << num(std::max(2.0, a.px(f.until) - a.px(f.at)), 1)
        << "' height='14'><title>" << esc(f.kind + " " + f.what + " at " + hours(f.at))
        << "</title></rect>";
  }
  for (const auto& v : r.violations) {
    int y = T + lane_h * lane_of("violation") + 4;
    out << "<rect class='f4' x='" << num(a.px(v.at), 1) << "' y='" << y
        << "' width='3' height='14'><title>" << esc(v.invariant + ": " + v.what)
        << "</title></rect>";
  }
  for (int k = 0; k <= 4; ++k) {
    double x = a.x1 * k / 4.0;
    out << "<text x='" << a.px(x) << "' y='" << h - B + 16 << "' class='xl'>" << tick_time(x)
        << "</text>";
  }
  out << "</svg>";
  return out.str();
}

} // namespace

json to_json(const run_report& r) {
  auto lat = latencies(r);
  json j;
  j["scenario"] = r.scenario;
  j["scenario_file"] = r.scenario_file;
  j["seed"] = r.seed;
  j["time_mode"] = r.time_mode;
  j["plc"] = r.plc;
  j["passed"] = r.passed();
  j["nodes"] = r.nodes;
  j["sites"] = r.sites;
  j["slices_created"] = r.slices_created;
  j["final_slivers"] = r.final_slivers;
  j["final_state"] = r.final_state;
  if (!r.shards.empty())
    j["shards"] = r.shards;
  j["virtual_seconds"] = r.virtual_seconds;
  j["wall_seconds"] = r.wall_seconds;
  j["setup_wall_seconds"] = r.setup_wall_seconds;
  j["memory"] = {{"rss_before_nodes_kib", r.rss_before_nodes_kib},
                 {"rss_end_kib", r.rss_end_kib},
                 {"peak_rss_kib", r.peak_rss_kib},
                 {"rss_per_node_bytes", r.rss_per_node_bytes}};
  j["events"] = r.events;
  j["convergence"] = {{"count", lat.size()},
                      {"p50", percentile(lat, 50)},
                      {"p90", percentile(lat, 90)},
                      {"p99", percentile(lat, 99)},
                      {"max", percentile(lat, 100)}};
  json samples = json::array();
  for (const auto& c : r.convergence)
    samples.push_back({{"node", c.node},
                       {"committed", c.committed},
                       {"latency", c.latency},
                       {"change", c.change}});
  j["convergence"]["samples"] = samples;
  j["plc_calls"] = r.plc_calls;
  j["plc_failures"] = r.plc_failures;
  j["messages"] = r.messages;
  j["messages_per_second"] =
      r.virtual_seconds > 0 ? static_cast<double>(r.messages) / r.virtual_seconds : 0.0;
  j["plc_requests_per_second"] =
      r.virtual_seconds > 0 ? static_cast<double>(r.plc_calls) / r.virtual_seconds : 0.0;
  json latency = json::object();
  for (const auto& [m, s] : r.plc_latency)
    latency[m] = {
        {"count", s.count}, {"mean_ms", s.mean_ms}, {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}};
  j["plc_latency_wall"] = latency;
  j["series"] = {{"nodes_up", series(r.nodes_up)},
                 {"slivers", series(r.slivers_total)},
                 {"plc_calls_per_minute", series(r.plc_calls_per_min)},
                 {"messages_per_minute", series(r.messages_per_min)}};
  json faults = json::array();
  for (const auto& f : r.faults)
    faults.push_back({{"at", f.at}, {"until", f.until}, {"kind", f.kind}, {"what", f.what}});
  j["faults"] = faults;
  json violations = json::array();
  for (const auto& v : r.violations)
    violations.push_back({{"at", v.at},
                          {"invariant", v.invariant},
                          {"node", v.node},
                          {"what", v.what},
                          {"cause", v.cause}});
  j["violations"] = violations;
  j["admission_refusals"] = r.refusals;
  return j;
}

std::string html_report(const run_report& r) {
  auto lat = latencies(r);
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>plsim: "
    << esc(r.scenario) << "</title><style>"
    << "body{font:14px sans-serif;margin:24px;max-width:760px;color:#222}"
    << "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    << "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;"
       "border-bottom:1px solid #ddd}"
    << ".ok{color:#070;font-weight:bold}.bad{color:#b00;font-weight:bold}"
    << "svg{display:block;margin:8px 0}.t{font-weight:bold;font-size:13px}"
    << ".ax{stroke:#333}.grid{stroke:#eee}.xl{font-size:11px;text-anchor:middle}"
    << ".yl{font-size:11px;text-anchor:end}.line{fill:none;stroke:#1565c0;stroke-width:1.5}"
    << ".bar{fill:#90caf9}.cdf{fill:none;stroke:#e65100;stroke-width:1.5}"
    << ".pct{stroke:#888;stroke-dasharray:3 3}.outage{fill:#ffcdd2}.part{fill:#fff3c4}"
    << ".f0{fill:#c62828}.f1{fill:#f9a825}.f2{fill:#6d4c41}.f3{fill:#8e24aa}.f4{fill:#000}"
    << "</style></head><body>\n";
  h << "<h1>plsim run: " << esc(r.scenario) << "</h1>\n";
  h << "<p class='" << (r.passed() ? "ok'>PASSED: every invariant held" : "bad'>FAILED: ")
    << (r.passed() ? "" : std::to_string(r.violations.size()) + " invariant violation(s)")
    << "</p>\n<table>";
  auto row = [&](const std::string& k, const std::string& v) {
    h << "<tr><th>" << esc(k) << "</th><td>" << esc(v) << "</td></tr>";
  };
  row("scenario file", r.scenario_file);
  row("seed", std::to_string(r.seed));
  row("time mode", r.time_mode);
  row("PLC", r.plc);
  row("testbed", std::to_string(r.sites) + " sites, " + std::to_string(r.nodes) + " nodes, " +
                     std::to_string(r.slices_created) + " slices created, " +
                     std::to_string(r.final_slivers) + " slivers at the end");
  row("time", hours(r.virtual_seconds) + " simulated in " + num(r.wall_seconds, 1) +
                  " s of wall time (setup " + num(r.setup_wall_seconds, 1) + " s), " +
                  std::to_string(r.events) + " events");
  row("convergence", std::to_string(lat.size()) + " changes applied; p50 " +
                         num(percentile(lat, 50)) + " s, p90 " + num(percentile(lat, 90)) +
                         " s, p99 " + num(percentile(lat, 99)) + " s, max " +
                         num(percentile(lat, 100)) + " s");
  row("PLC load", std::to_string(r.plc_calls) + " calls (" +
                      num(r.virtual_seconds > 0 ? r.plc_calls / r.virtual_seconds : 0, 2) +
                      "/s), " + std::to_string(r.plc_failures) + " failed or unreachable");
  row("messages", std::to_string(r.messages) + " (" +
                      num(r.virtual_seconds > 0 ? r.messages / r.virtual_seconds : 0, 2) + "/s)");
  row("memory", num(r.rss_per_node_bytes / 1024.0, 1) + " KiB per virtual node (resident set " +
                    num(r.rss_before_nodes_kib / 1024.0, 1) + " MiB before the nodes, " +
                    num(r.rss_end_kib / 1024.0, 1) + " MiB at the end, peak " +
                    num(r.peak_rss_kib / 1024.0, 1) + " MiB)");
  h << "</table>\n";
  if (!r.violations.empty()) {
    h << "<h2>Invariant violations</h2><table><tr><th>at</th><th>invariant</th><th>what</th>"
         "<th>after</th></tr>";
    for (const auto& v : r.violations)
      h << "<tr><td>" << hours(v.at) << "</td><td>" << esc(v.invariant) << "</td><td>"
        << esc(v.what) << "</td><td>" << esc(v.cause) << "</td></tr>";
    h << "</table>\n";
  }
  h << "<h2>Convergence</h2>" << histogram(lat, "Change committed at PLC -> applied on node")
    << "\n<h2>Nodes up</h2>"
    << line_chart(r.nodes_up, "Nodes up (shaded: PLC outage red, partition yellow)", "nodes",
                  &r.faults)
    << "\n<h2>PLC load</h2>"
    << line_chart(r.plc_calls_per_min, "PLC calls per minute", "calls", nullptr)
    << "\n<h2>Slivers</h2>"
    << line_chart(r.slivers_total, "Slivers on all nodes", "slivers", nullptr)
    << "\n<h2>Faults</h2>" << fault_timeline(r) << "\n";
  h << "<h2>PLC latency (wall time per call)</h2><table><tr><th>method</th><th>calls</th>"
       "<th>mean ms</th><th>p99 ms</th><th>max ms</th></tr>";
  for (const auto& [m, s] : r.plc_latency)
    h << "<tr><td>" << esc(m) << "</td><td>" << s.count << "</td><td>" << num(s.mean_ms, 2)
      << "</td><td>" << num(s.p99_ms, 2) << "</td><td>" << num(s.max_ms, 2) << "</td></tr>";
  h << "</table>\n";
  if (!r.refusals.empty()) {
    h << "<h2>Admission refusals</h2><ul>";
    for (std::size_t k = 0; k < r.refusals.size() && k < 50; ++k)
      h << "<li>" << esc(r.refusals[k]) << "</li>";
    h << "</ul>";
  }
  h << "</body></html>\n";
  return h.str();
}

fs::path write_outputs(const fs::path& dir, const run_report& r) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  auto write = [](const fs::path& p, const std::string& text) {
    std::ofstream out{p, std::ios::binary | std::ios::trunc};
    out << text;
    out.close();
    if (!out)
      throw std::runtime_error("cannot write " + p.string());
  };
  write(dir / "run.json", to_json(r).dump(2) + "\n");
  write(dir / "report.html", html_report(r));
  return dir / "report.html";
}

} // namespace pl::sim
