#include "plc/http/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace pl::plc::http {

namespace {

enum kind : int { counter_kind = 0, gauge_kind = 1, histogram_kind = 2 };

const char* kind_name(int k) {
  switch (k) {
  case counter_kind:
    return "counter";
  case gauge_kind:
    return "gauge";
  default:
    return "histogram";
  }
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result res;
  // Counters are usually whole numbers; print them without an exponent so they stay readable.
  if (value == std::trunc(value) && std::fabs(value) < 9.0e15)
    res = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
  else
    res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '"':
      out += quote ? "\\\"" : "\"";
      break;
    default:
      out += c;
    }
  }
}

/// Renders `name="value",...` (without braces); values are replaced by `other` when `fold`.
std::string label_key(label_list labels, bool fold) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (!key.empty())
      key += ',';
    key += name;
    key += "=\"";
    append_escaped(key, fold ? std::string_view{"other"} : value, true);
    key += '"';
  }
  return key;
}

void append_series_line(std::string& out, std::string_view name, std::string_view suffix,
                        std::string_view key, std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!key.empty() || !extra_label.empty()) {
    out += '{';
    out += key;
    if (!key.empty() && !extra_label.empty())
      out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

} // namespace

struct metrics_registry::series {
  double value = 0;
  std::function<double()> read;
  std::vector<std::uint64_t> bucket_counts; // per bucket, not cumulative; last is +Inf
  double sum = 0;
  std::uint64_t count = 0;
};

struct metrics_registry::family {
  std::string help;
  int kind = counter_kind;
  std::vector<double> bounds;
  std::map<std::string, series, std::less<>> series_by_key;
};

metrics_registry::metrics_registry() {
  define_counter("plc_requests_total", "XML-RPC calls by method and fault code (0: success).");
  define_histogram("plc_request_duration_seconds", "XML-RPC call duration in seconds.",
                   default_latency_buckets());
  define_counter("plc_http_requests_total", "HTTP responses by status code.");
  define_gauge("plc_http_connections", "Open HTTP connections.");
  define_gauge("plc_http_requests_in_flight", "HTTP requests read but not yet answered.");
}

metrics_registry::~metrics_registry() = default;

std::vector<double> metrics_registry::default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void metrics_registry::define_locked(std::string name, std::string help, int kind,
                                     std::vector<double> bounds) {
  if (name.empty())
    throw std::logic_error("metrics: empty family name");
  std::lock_guard guard{mutex_};
  if (auto i = families_.find(name); i != families_.end()) {
    if (i->second->kind != kind)
      throw std::logic_error("metrics: " + name + " already defined as another kind");
    return;
  }
  auto f = std::make_unique<family>();
  f->help = std::move(help);
  f->kind = kind;
  f->bounds = std::move(bounds);
  families_.emplace(std::move(name), std::move(f));
}

void metrics_registry::define_counter(std::string name, std::string help) {
  define_locked(std::move(name), std::move(help), counter_kind, {});
}

void metrics_registry::define_gauge(std::string name, std::string help) {
  define_locked(std::move(name), std::move(help), gauge_kind, {});
}

void metrics_registry::define_histogram(std::string name, std::string help,
                                        std::vector<double> upper_bounds) {
  for (std::size_t i = 1; i < upper_bounds.size(); ++i)
    if (!(upper_bounds[i - 1] < upper_bounds[i]))
      throw std::logic_error("metrics: histogram " + name + " bounds not ascending");
  define_locked(std::move(name), std::move(help), histogram_kind, std::move(upper_bounds));
}

metrics_registry::family& metrics_registry::find_locked(std::string_view name, int kind) {
  auto i = families_.find(name);
  if (i == families_.end())
    throw std::logic_error("metrics: undefined family " + std::string{name});
  if (i->second->kind != kind)
    throw std::logic_error("metrics: " + std::string{name} + " is a " + kind_name(i->second->kind) +
                           ", not a " + kind_name(kind));
  return *i->second;
}

metrics_registry::series& metrics_registry::series_locked(family& f, label_list labels) {
  auto key = label_key(labels, false);
  if (auto i = f.series_by_key.find(key); i != f.series_by_key.end())
    return i->second;
  if (f.series_by_key.size() >= max_series_per_family)
    key = label_key(labels, true);
  auto [i, added] = f.series_by_key.try_emplace(std::move(key));
  if (added && f.kind == histogram_kind)
    i->second.bucket_counts.assign(f.bounds.size() + 1, 0);
  return i->second;
}

void metrics_registry::increment(std::string_view name, label_list labels, double amount) {
  if (!(amount >= 0))
    throw std::logic_error("metrics: counter " + std::string{name} + " decremented");
  std::lock_guard guard{mutex_};
  series_locked(find_locked(name, counter_kind), labels).value += amount;
}

void metrics_registry::set(std::string_view name, double value, label_list labels) {
  std::lock_guard guard{mutex_};
  series_locked(find_locked(name, gauge_kind), labels).value = value;
}

void metrics_registry::add(std::string_view name, double delta, label_list labels) {
  std::lock_guard guard{mutex_};
  series_locked(find_locked(name, gauge_kind), labels).value += delta;
}

void metrics_registry::set_callback(std::string_view name, std::function<double()> read,
                                    label_list labels) {
  std::lock_guard guard{mutex_};
  series_locked(find_locked(name, gauge_kind), labels).read = std::move(read);
}

void metrics_registry::remove_callback(std::string_view name, label_list labels) {
  std::lock_guard guard{mutex_};
  find_locked(name, gauge_kind).series_by_key.erase(label_key(labels, false));
}

void metrics_registry::observe(std::string_view name, double value, label_list labels) {
  std::lock_guard guard{mutex_};
  auto& f = find_locked(name, histogram_kind);
  auto& s = series_locked(f, labels);
  std::size_t bucket = 0;
  while (bucket < f.bounds.size() && value > f.bounds[bucket])
    ++bucket;
  ++s.bucket_counts[bucket];
  s.sum += value;
  ++s.count;
}

void metrics_registry::observe_call(std::string_view method, int fault_code, double seconds) {
  char buf[16];
  auto res = std::to_chars(buf, buf + sizeof buf, fault_code);
  std::string_view fault{buf, static_cast<std::size_t>(res.ptr - buf)};
  increment("plc_requests_total", {{"method", method}, {"fault", fault}});
  observe("plc_request_duration_seconds", seconds);
}

std::string metrics_registry::render() const {
  // Callbacks may take other locks (the DB pool's), so they run without ours held.
  struct pending {
    std::string family_name;
    std::string key;
    std::function<double()> read;
    double value = 0;
  };
  std::vector<pending> reads;
  {
    std::lock_guard guard{mutex_};
    for (const auto& [name, f] : families_)
      for (const auto& [key, s] : f->series_by_key)
        if (s.read)
          reads.push_back({name, key, s.read});
  }
  for (auto& r : reads)
    r.value = r.read();
  auto read_value = [&](std::string_view fam, std::string_view key, double fallback) {
    for (const auto& r : reads)
      if (r.family_name == fam && r.key == key)
        return r.value;
    return fallback;
  };

  std::string out;
  std::lock_guard guard{mutex_};
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kind_name(f->kind);
    out += '\n';
    for (const auto& [key, s] : f->series_by_key) {
      if (f->kind != histogram_kind) {
        append_series_line(out, name, "", key, "", s.read ? read_value(name, key, 0) : s.value);
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < s.bucket_counts.size(); ++b) {
        cumulative += s.bucket_counts[b];
        std::string le = "le=\"";
        if (b < f->bounds.size())
          append_number(le, f->bounds[b]);
        else
          le += "+Inf";
        le += '"';
        append_series_line(out, name, "_bucket", key, le, static_cast<double>(cumulative));
      }
      append_series_line(out, name, "_sum", key, "", s.sum);
      append_series_line(out, name, "_count", key, "", static_cast<double>(s.count));
    }
  }
  return out;
}

} // namespace pl::plc::http
