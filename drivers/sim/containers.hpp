#pragma once

#include <map>
#include <memory>

#include "drivers/container_backend.hpp"
#include "drivers/sim/model.hpp"

namespace pl::drivers::sim {

/// Models containers: which exist and which run, charging the model's clock.
class sim_containers : public container_backend {
public:
  explicit sim_containers(std::shared_ptr<model> m)
      : model_(std::move(m)) {}

  caf::error create(const sliver_spec& spec) override;
  caf::error start(const std::string& name) override;
  caf::error stop(const std::string& name) override;
  caf::error destroy(const std::string& name) override;
  std::vector<std::string> containers() const override;
  bool running(const std::string& name) const override;

private:
  std::shared_ptr<model> model_;
  std::map<std::string, bool> running_;
};

} // namespace pl::drivers::sim
