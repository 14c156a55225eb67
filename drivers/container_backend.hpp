#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/records.hpp"

namespace pl::drivers {

/// Creates and runs slivers' containers (mechanism `container`); the linux
/// backend uses namespaces and overlayfs, the sim backend a model.
class container_backend {
public:
  virtual ~container_backend() = default;

  /// Makes or updates the container of `spec.name` from the image `spec.vref`;
  /// idempotent.
  virtual caf::error create(const sliver_spec& spec) = 0;

  /// Starts the container's init; no-op when running.
  virtual caf::error start(const std::string& name) = 0;

  /// Kills every process of the container; no-op when stopped.
  virtual caf::error stop(const std::string& name) = 0;

  /// Stops the container and removes its root file system and records.
  virtual caf::error destroy(const std::string& name) = 0;

  /// Lists the containers (after a restart: the adopted ones).
  virtual std::vector<std::string> containers() const = 0;

  /// Returns whether the container's init is running.
  virtual bool running(const std::string& name) const = 0;

  /// Returns the containers whose init died although nobody stopped them
  /// (killed, an OOM or fair-victim kill); the container driver actor starts
  /// them again. Default: none.
  virtual std::vector<std::string> died() const { return {}; }

  /// How often the container driver actor looks for `died()` containers;
  /// zero (the default, e.g. the sim backend): never.
  virtual std::chrono::milliseconds watch_interval() const { return std::chrono::milliseconds{0}; }
};

} // namespace pl::drivers
