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
  SECTION("fixed documents") {
    document_map docs{{"/ticket-key.pem", {"application/x-pem-file", "PEM"}}};
    CHECK(route_request("GET", "/ticket-key.pem", "", &docs).kind == route_kind::document);
    CHECK(route_request("HEAD", "/ticket-key.pem?x=1", "", &docs).kind == route_kind::document);
    auto post = route_request("POST", "/ticket-key.pem", "text/xml", &docs);
    CHECK(post.status == 405);
    CHECK(post.allow == "GET, HEAD");
    // Without the map, or for another path, it is unknown; the API paths still route.
    CHECK(route_request("GET", "/ticket-key.pem", "").status == 404);
    CHECK(route_request("GET", "/ticket-key.pe", "", &docs).status == 404);
    CHECK(route_request("POST", "/PLCAPI/", "text/xml", &docs).kind == route_kind::rpc);
  }
  SECTION("unknown paths") {
    for (auto target : {"/", "/RPC2", "/PLCAPI//", "/plcapi/", "/healthz/x", "*"}) {
      auto r = route_request("POST", target, "text/xml");
      CHECK(r.kind == route_kind::error);
      CHECK(r.status == 404);
    }
  }
}
