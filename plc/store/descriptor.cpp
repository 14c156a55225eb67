#include "plc/store/descriptor.hpp"

namespace pl::plc::store {

const field_desc* class_desc::find(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name)
      return &f;
  return nullptr;
}

} // namespace pl::plc::store
