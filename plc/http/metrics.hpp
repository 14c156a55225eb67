#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pl::plc::http {

/// Lists the label names and values of one time series, in rendering order.
using label_list = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Collects Prometheus metrics from any thread and renders them in text format 0.0.4.
///
/// A metric family is declared once (`define_counter`, `define_gauge`, `define_histogram`) and
/// then updated by name with a label set; using an undeclared name or the wrong kind throws
/// `std::logic_error`, since that is a programming error. Every update takes one mutex, which is
/// cheap next to the work of an XML-RPC call.
///
/// Label values may come from clients (method names), so each family keeps at most
/// `max_series_per_family` series; observations for further label sets are folded into one series
/// whose label values are all `other`.
///
/// The constructor declares the families that the HTTP server and the XML-RPC dispatcher share:
///
/// | family | kind | labels |
/// |---|---|---|
/// | `plc_requests_total` | counter | `method`, `fault` (0 for success) |
/// | `plc_request_duration_seconds` | histogram | none |
/// | `plc_http_requests_total` | counter | `status` |
/// | `plc_http_connections` | gauge | none |
/// | `plc_http_requests_in_flight` | gauge | none |
class metrics_registry {
public:
  /// Bounds the number of label sets per family (see the class comment).
  static constexpr std::size_t max_series_per_family = 1000;

  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// Declares a counter family; declaring an existing name again with the same kind is a no-op.
  void define_counter(std::string name, std::string help);

  /// Declares a gauge family whose series are set explicitly or read by callbacks.
  void define_gauge(std::string name, std::string help);

  /// Declares a histogram family with the given bucket upper bounds (ascending; `+Inf` is
  /// implicit).
  void define_histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  /// Adds `amount` (non-negative) to a counter series.
  void increment(std::string_view name, label_list labels = {}, double amount = 1.0);

  /// Sets a gauge series to `value`.
  void set(std::string_view name, double value, label_list labels = {});

  /// Adds `delta` (possibly negative) to a gauge series.
  void add(std::string_view name, double delta, label_list labels = {});

  /// Registers a callback that supplies a gauge series' value at every `render()`.
  ///
  /// Use it for values owned elsewhere, such as the DB pool's size, connections in use and
  /// waiters. The callback runs on the rendering thread without the registry's lock held; it must
  /// stay callable until `remove_callback` is called for the same series or the registry dies.
  void set_callback(std::string_view name, std::function<double()> read, label_list labels = {});

  /// Unregisters the callback of a gauge series and drops the series.
  void remove_callback(std::string_view name, label_list labels = {});

  /// Records one observation in a histogram series.
  void observe(std::string_view name, double value, label_list labels = {});

  /// Records one XML-RPC call: counts it by method and fault code and records its duration.
  ///
  /// The dispatcher calls this once per call; `fault_code` is 0 for a successful call. Pass only
  /// registered method names (or a fixed placeholder for unknown ones) to keep the label set
  /// small.
  void observe_call(std::string_view method, int fault_code, double seconds);

  /// Renders every family in Prometheus text exposition format 0.0.4.
  std::string render() const;

  /// Returns the default latency buckets in seconds (1 ms to 10 s).
  static std::vector<double> default_latency_buckets();

private:
  struct family;
  struct series;

  family& find_locked(std::string_view name, int kind);
  series& series_locked(family& f, label_list labels);
  void define_locked(std::string name, std::string help, int kind, std::vector<double> bounds);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<family>, std::less<>> families_;
};

} // namespace pl::plc::http
