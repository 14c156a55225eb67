#include "actors/caf_clock.hpp"

#include <caf/actor_clock.hpp>

namespace pl {

caf_clock::caf_clock(const caf::actor_clock& source, time_point epoch)
    : source_(&source)
    , origin_(source.now())
    , epoch_(epoch) {}

caf_clock::time_point caf_clock::now() const {
  return epoch_ + std::chrono::duration_cast<duration>(source_->now() - origin_);
}

} // namespace pl
