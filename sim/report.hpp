#pragma once

// The outputs of a run: a JSON record (everything measured, for tools) and a
// self-contained HTML report (inline SVG plots; no scripts, no external
// src/href, so it opens anywhere and can be mailed as one file).

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/engine.hpp"

namespace pl::sim {

/// Percentile `p` (0..100) of `values` (sorted or not); 0 when empty.
double percentile(std::vector<double> values, double p);

nlohmann::json to_json(const run_report& r);

/// Returns the report as one HTML document.
std::string html_report(const run_report& r);

/// Writes `dir`/run.json and `dir`/report.html (creating `dir`); returns the
/// report's path. Throws std::runtime_error naming a file it cannot write.
std::filesystem::path write_outputs(const std::filesystem::path& dir, const run_report& r);

} // namespace pl::sim
