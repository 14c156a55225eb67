#include "drivers/sim/containers.hpp"

#include "actors/errors.hpp"

namespace pl::drivers::sim {

caf::error sim_containers::create(const sliver_spec& spec) {
  if (!valid_sliver_name(spec.name))
    return make_error(errc::invalid_argument, "bad sliver name '" + spec.name + "'");
  if (spec.vref.empty())
    return make_error(errc::invalid_argument, "sliver " + spec.name + " names no image");
  model_->charge(model_->cost().container_create);
  running_.try_emplace(spec.name, false);
  return {};
}

caf::error sim_containers::start(const std::string& name) {
  auto i = running_.find(name);
  if (i == running_.end())
    return make_error(errc::unknown_sliver, name);
  if (!i->second)
    model_->charge(model_->cost().container_start);
  i->second = true;
  return {};
}

caf::error sim_containers::stop(const std::string& name) {
  auto i = running_.find(name);
  if (i == running_.end())
    return make_error(errc::unknown_sliver, name);
  i->second = false;
  return {};
}

caf::error sim_containers::destroy(const std::string& name) {
  running_.erase(name);
  return {};
}

std::vector<std::string> sim_containers::containers() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : running_)
    out.push_back(name);
  return out;
}

bool sim_containers::running(const std::string& name) const {
  auto i = running_.find(name);
  return i != running_.end() && i->second;
}

} // namespace pl::drivers::sim
