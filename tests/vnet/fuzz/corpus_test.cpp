// Replays the saved fuzz corpus through the fuzz target, so that builds
// without clang (and without libFuzzer) still run every saved input.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

TEST_CASE("replays every input of the saved corpus", "[fuzz]") {
  const std::filesystem::path dir{PL_VNET_CORPUS_DIR};
  REQUIRE(std::filesystem::is_directory(dir));
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator{dir}) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream f{entry.path(), std::ios::binary};
    std::vector<std::uint8_t> data{std::istreambuf_iterator<char>{f},
                                   std::istreambuf_iterator<char>{}};
    INFO(entry.path().string());
    CHECK(LLVMFuzzerTestOneInput(data.data(), data.size()) == 0);
    ++files;
  }
  CHECK(files >= 10);
}
