#include <catch2/catch.hpp>

#include "plc/http/router.hpp"

using namespace pl::plc::http;

TEST_CASE("XML content types are recognised with parameters and in any case", "[router]") {
  CHECK(is_xml_content_type("text/xml"));
  CHECK(is_xml_content_type("text/xml; charset=utf-8"));
  CHECK(is_xml_content_type("Text/XML;charset=UTF-8"));
  CHECK(is_xml_content_type(" application/xml "));
  CHECK_FALSE(is_xml_content_type(""));
  CHECK_FALSE(is_xml_content_type("text/html"));
  CHECK_FALSE(is_xml_content_type("application/json"));
  CHECK_FALSE(is_xml_content_type("text/xmlx"));
  CHECK_FALSE(is_xml_content_type("application/x-www-form-urlencoded"));
}

TEST_CASE("the routing table", "[router]") {
  SECTION("XML-RPC") {
    CHECK(route_request("POST", "/PLCAPI/", "text/xml").kind == route_kind::rpc);
    CHECK(route_request("POST", "/PLCAPI", "text/xml").kind == route_kind::rpc);
    CHECK(route_request("POST", "/PLCAPI/?debug=1", "application/xml").kind == route_kind::rpc);
  }
  SECTION("wrong method on /PLCAPI/") {
    for (auto method : {"GET", "HEAD", "PUT", "OPTIONS", "FROB"}) {
      auto r = route_request(method, "/PLCAPI/", "text/xml");
      CHECK(r.kind == route_kind::error);
      CHECK(r.status == 405);
      CHECK(r.allow == "POST");
    }
  }
  SECTION("wrong content type") {
    auto r = route_request("POST", "/PLCAPI/", "application/json");
    CHECK(r.status == 415);
    CHECK(r.message.find("application/json") != std::string::npos);
    CHECK(route_request("POST", "/PLCAPI/", "").status == 415);
  }
  SECTION("health and metrics") {
    CHECK(route_request("GET", "/healthz", "").kind == route_kind::healthz);
    CHECK(route_request("HEAD", "/healthz", "").kind == route_kind::healthz);
    CHECK(route_request("GET", "/metrics", "").kind == route_kind::metrics);
    auto r = route_request("POST", "/metrics", "text/xml");
    CHECK(r.status == 405);
    CHECK(r.allow == "GET, HEAD");
  }
  SECTION("unknown paths") {
    for (auto target : {"/", "/RPC2", "/PLCAPI//", "/plcapi/", "/healthz/x", "*"}) {
      auto r = route_request("POST", target, "text/xml");
      CHECK(r.kind == route_kind::error);
      CHECK(r.status == 404);
    }
  }
}
