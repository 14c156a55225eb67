#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/resources.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::drivers::sim {

/// The number of rows in the resource table the model holds values for.
inline constexpr std::size_t max_rows = 24;

/// Costs in simulated nanoseconds that each operation charges to the model's
/// clock (`elapsed`), roughly what the linux backend takes.
struct costs {
  std::int64_t apply = 50'000;
  std::int64_t remove = 100'000;
  std::int64_t read = 1'000;
  std::int64_t container_create = 20'000'000;
  std::int64_t container_start = 5'000'000;
};

/// Holds a node's slivers, their enforced values and a simulated use of
/// memory, tasks and disk, deterministically and in memory: the `sim`
/// backend's state. It enforces what the kernel would: a fork past
/// `tasks_max` fails, memory past `mem_limit` OOM-kills the sliver, a write
/// past `disk_max` fails, a disk limit below use is refused, and under parent
/// memory pressure the fair victim is killed.
class model {
public:
  explicit model(costs c = {});

  /// Applies an allocation (validated like the linux drivers).
  caf::error apply(const allocation& a);

  /// Removes the sliver's settings of mechanism `m`; the sliver goes when no
  /// mechanism holds it any more.
  caf::error remove(const std::string& sliver, mechanism m);

  /// Reads back the values of mechanism `m` in force for `sliver`.
  caf::expected<allocation> read(const std::string& sliver, mechanism m) const;

  /// Lists slivers holding settings of mechanism `m`.
  std::vector<std::string> slivers(mechanism m) const;

  /// Returns the use of `resource` (`mem_limit` pages, `tasks_max`
  /// processes, `disk_max` 1K blocks).
  caf::expected<std::int64_t> usage(const std::string& sliver, std::string_view resource) const;

  /// Starts one task in the sliver; `false` at the task limit (EAGAIN).
  bool fork(const std::string& sliver);

  /// Ends one task of the sliver.
  void exit(const std::string& sliver);

  /// Touches `pages` more pages; past `mem_limit` the sliver is OOM-killed
  /// (its tasks and memory drop to 0) and this returns false.
  bool allocate(const std::string& sliver, std::int64_t pages);

  /// Writes `blocks` 1K blocks; false (ENOSPC) past `disk_max`, nothing
  /// written.
  bool write(const std::string& sliver, std::int64_t blocks);

  /// Sets the memory the `planetlab` parent may use (pages; 0 = no limit).
  void parent_memory_limit(std::int64_t pages) { parent_limit_ = pages; }

  /// Runs the fair-victim policy once: when the parent is short, kills the
  /// sliver furthest over its share; returns its name.
  std::optional<std::string> enforce_fair_victim(std::int64_t threshold_percent = 95);

  /// Returns how many times the sliver was OOM-killed.
  std::int64_t oom_kills(const std::string& sliver) const;

  /// Returns the simulated time charged so far.
  std::int64_t elapsed() const { return elapsed_; }

  /// Returns the number of slivers held.
  std::size_t size() const { return slivers_.size(); }

  /// Charges `ns` simulated nanoseconds (used by the container model).
  void charge(std::int64_t ns) { elapsed_ += ns; }

  const costs& cost() const { return costs_; }

private:
  struct sliver {
    std::array<std::int64_t, max_rows> values{};
    std::int64_t cpu_cap = 0;
    std::int64_t io_max_iops = 0;
    std::int64_t mem_pages = 0;
    std::int64_t disk_blocks = 0;
    std::int32_t tasks = 0;
    std::int32_t oom_kills = 0;
    std::uint8_t mechanisms = 0; // bit per mechanism holding settings
  };

  sliver* find(const std::string& name);
  const sliver* find(const std::string& name) const;

  costs costs_;
  std::unordered_map<std::string, sliver> slivers_;
  std::int64_t parent_limit_ = 0;
  std::int64_t elapsed_ = 0;
};

/// Exposes one mechanism of a shared model as a `mechanism_driver`.
class model_driver : public mechanism_driver {
public:
  model_driver(std::shared_ptr<model> m, mechanism kind)
      : model_(std::move(m))
      , kind_(kind) {}

  mechanism kind() const override { return kind_; }
  caf::error apply(const allocation& a) override { return model_->apply(a); }
  caf::error remove(const std::string& s) override { return model_->remove(s, kind_); }
  caf::expected<allocation> read(const std::string& s) const override {
    return model_->read(s, kind_);
  }
  std::vector<std::string> slivers() const override { return model_->slivers(kind_); }
  caf::expected<std::int64_t> usage(const std::string& s, std::string_view r) const override {
    return model_->usage(s, r);
  }

private:
  std::shared_ptr<model> model_;
  mechanism kind_;
};

} // namespace pl::drivers::sim
