// The one Catch2 main shared by every suite (compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
