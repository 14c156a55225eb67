#include "actors/runtime_config.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/message.hpp>

#include "actors/errors.hpp"
#include "actors/type_ids.hpp"

namespace pl {

namespace {

std::string render_error(std::uint8_t code, caf::atom_value category, const caf::message& context) {
  auto result = caf::to_string(category);
  result += ": ";
  result += to_string(static_cast<errc>(code));
  if (context.match_elements<std::string>()) {
    result += " (";
    result += context.get_as<std::string>(0);
    result += ")";
  } else if (!context.empty()) {
    result += " ";
    result += caf::to_string(context);
  }
  return result;
}

} // namespace

std::size_t default_max_threads() {
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

void configure_runtime(caf::actor_system_config& cfg, const runtime_options& opts) {
  cfg.add_message_types<caf::id_block::planetlab>();
  // CAF 0.17.6's add_error_category<T>() does not compile (its renderer has
  // the wrong signature), so the renderer is spelled out here.
  cfg.add_error_category(caf::atom("pl"), render_error);
  auto threads = opts.max_threads > 0 ? opts.max_threads : default_max_threads();
  cfg.set("scheduler.max-threads", threads);
  if (opts.virtual_time)
    cfg.set("scheduler.policy", caf::atom("testing"));
  if (opts.middleman)
    cfg.load<caf::io::middleman>();
}

} // namespace pl
