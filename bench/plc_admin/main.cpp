// Loads a PlanetLab-size dataset into PLC through the API, then measures how many
// GetSites/GetNodes/GetPersons calls per second plcd answers, with all fields and with a few
// return_fields, at 1 and 8 clients (each a thread with its own keep-alive connection).
//
// By default it starts `plcd --dev` on a fresh temporary data directory (plain HTTP on
// loopback, any free port) and stops it with SIGTERM at the end; with --url it measures an
// existing plcd instead. Calls use session auth (GetSession once with the password), so the
// password KDF is not what is measured. The load uses system.multicall batches.
//
//   bench_plc_admin [--seconds 2] [--clients 1,8] [--sites 250 --persons 1000 --nodes 1000]
//   bench_plc_admin --url http://127.0.0.1:8080/PLCAPI/ --user admin@localhost --password PW

#include "bench/plc_common/plc_bench.hpp"

using namespace pl::bench;

int main(int argc, char** argv) {
  CLI::App app{"PLC AdminDB benchmark: loads a PlanetLab-size dataset through the API, then "
               "measures GetSites/GetNodes/GetPersons calls per second (session auth)"};
  std::string url, user = "admin@localhost", password, ca_file;
  dataset_size size;
  run_options run;
  std::size_t batch = 100;
  bool no_load = false;
  add_run_options(app, run);
  auto* url_opt =
      app.add_option("--url", url, "measure an existing plcd at this URL instead of starting one");
  app.add_option("--user", user, "login with --url")->needs(url_opt)->capture_default_str();
  app.add_option("--password", password, "password of --user with --url (else $PLC_PASSWORD)")
      ->needs(url_opt);
  app.add_option("--cafile", ca_file, "CA file for an https --url (default: system store)")
      ->needs(url_opt);
  app.add_flag("--no-load", no_load, "measure the data already there (with --url)")->needs(url_opt);
  app.add_option("--sites", size.sites, "sites to load")
      ->check(CLI::Range(1, 9999))
      ->capture_default_str();
  app.add_option("--persons", size.persons, "persons to load (each with one ssh key)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--nodes", size.nodes, "nodes to load (if plcd has AddNode)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--batch", batch, "calls per system.multicall")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  prepare_process();

  try {
    auto client_counts = parse_list(run.clients);
    std::optional<plcd_process> server;
    std::string prefix = "bs";
    if (url.empty()) {
      auto start = steady::now();
      server.emplace(run.plcd, run.workers, run.db_pool);
      std::chrono::duration<double> took = steady::now() - start;
      url = server->url();
      password = server->password();
      std::printf("plcd: %s --dev --data-dir %s (--workers %d --db-pool %d), %s, started in "
                  "%.1f s\n",
                  run.plcd.c_str(), (server->data_dir() / "data").c_str(), run.workers, run.db_pool,
                  url.c_str(), took.count());
    } else {
      if (password.empty())
        if (const char* env = std::getenv("PLC_PASSWORD"))
          password = env;
      prefix = random_prefix(); // fresh login_bases, e-mails and hostnames on a shared plcd
      std::printf("plcd: %s (existing)\n", url.c_str());
    }
    auto options = client_options(url, ca_file);
    pl::xmlrpc_client rpc{options};

    auto methods_value = expect(rpc.call("system.listMethods", {}), "system.listMethods");
    std::vector<std::string> methods;
    for (const auto& m : xmlrpc_c::value_array(methods_value).vectorValueValue())
      methods.push_back(xmlrpc_c::value_string(m).cvalue());
    auto has = [&](const char* name) {
      return std::find(methods.begin(), methods.end(), name) != methods.end();
    };
    bool with_nodes = has("AddNode") && has("GetNodes");
    if (!with_nodes)
      std::printf("AddNode/GetNodes: absent from system.listMethods; nodes and GetNodes are "
                  "skipped\n");

    auto password_auth = strct(
        {{"AuthMethod", str("password")}, {"Username", str(user)}, {"AuthString", str(password)}});
    auto session = xmlrpc_c::value_string(
                       expect(rpc.call("GetSession", {password_auth}), "GetSession (password)"))
                       .cvalue();
    auto auth = strct({{"AuthMethod", str("session")}, {"session", str(session)}});

    if (!no_load) {
      if (!with_nodes)
        size.nodes = 0;
      std::printf("dataset: %d sites, %d persons (each with an ssh key), %d nodes\n", size.sites,
                  size.persons, size.nodes);
      load_dataset(rpc, auth, size, prefix, batch, with_nodes && size.nodes > 0);
    }

    struct query {
      const char* method;
      std::vector<std::string> few_fields;
    };
    std::vector<query> queries = {{"GetSites", {"site_id", "name"}},
                                  {"GetNodes", {"node_id", "hostname"}},
                                  {"GetPersons", {"person_id", "email"}}};
    std::chrono::duration<double> window{run.seconds};
    std::string loadavg;
    std::getline(std::ifstream{"/proc/loadavg"}, loadavg);
    std::printf("\nmeasuring: %.1f s per cell, session auth, keep-alive, one connection per "
                "client thread (load average before: %s)\n",
                run.seconds, loadavg.c_str());
    std::fflush(stdout);
    std::vector<cell> cells;
    for (const auto& q : queries) {
      if (std::string{q.method} == "GetNodes" && !with_nodes)
        continue;
      for (bool few : {false, true})
        for (int clients : client_counts) {
          std::vector<xv> params{auth};
          if (few) {
            params.push_back(xmlrpc_c::value_nil());
            params.push_back(string_array(q.few_fields));
          }
          auto c = measure(options, q.method, params, clients, window);
          c.few = few;
          cells.push_back(c);
        }
    }

    std::printf("\n%-11s %-18s %7s %6s %9s %9s %9s %12s %10s\n", "method", "return_fields",
                "clients", "rows", "calls/s", "mean ms", "p99 ms", "reply bytes", "decode ms");
    for (const auto& c : cells) {
      std::string fields = "all";
      if (c.few)
        for (const auto& q : queries)
          if (c.method == q.method)
            fields = q.few_fields[0] + "," + q.few_fields[1];
      std::printf("%-11s %-18s %7d %6zu %9.0f %9.2f %9.2f %12zu %10.2f%s\n", c.method.c_str(),
                  fields.c_str(), c.clients, c.rows, c.calls_per_s, c.mean_ms, c.p99_ms,
                  c.reply_bytes, c.decode_ms, c.reply_reencoded ? " (re-encoded)" : "");
    }
    std::printf("\nrows: entries returned; reply bytes: the HTTP body of one answer (XML-RPC);\n"
                "decode ms: the client's xmlrpc-c parse of that body, part of each call's latency\n"
                "(client threads and plcd share this machine's %u CPUs)\n",
                std::thread::hardware_concurrency());
    std::fflush(stdout);
    rpc.call("DeleteSession", {auth}); // ends the session (it would live 24 h on a --url plcd)
    if (server) {
      // Stop plcd here so its exit shows before the summary ends.
      server.reset();
      std::printf("plcd stopped, data directory removed\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plc_admin: %s\n", e.what());
    return 1;
  }
  return 0;
}
