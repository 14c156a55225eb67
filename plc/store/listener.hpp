#pragma once

// Hears PostgreSQL notifications (LISTEN/NOTIFY) on a connection of its own.
// PostgreSQL delivers a notification only when the transaction that raised it
// commits, so a listener sees exactly the committed changes, from any process
// writing to the database.

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace pl::plc::store {

class listener {
public:
  /// Called on the listener's thread with the channel and the payload.
  using handler = std::function<void(const std::string& channel, const std::string& payload)>;
  /// Called on the listener's thread after each (re)connection, before any
  /// notification from it: notifications sent while disconnected are lost, so
  /// the owner resynchronises here.
  using resync = std::function<void()>;

  /// Connects with `conninfo`, listens on `channels` and starts the thread.
  /// Throws store::db_error when the first connection fails; later failures
  /// are retried with backoff up to `max_backoff`.
  listener(std::string conninfo, std::vector<std::string> channels, handler on_notify,
           resync on_connect, std::chrono::milliseconds max_backoff = std::chrono::seconds(5));
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  /// Stops the thread and closes the connection.
  ~listener();

private:
  void run();

  std::string conninfo_;
  std::vector<std::string> channels_;
  handler on_notify_;
  resync on_connect_;
  std::chrono::milliseconds max_backoff_;
  int stop_pipe_[2] = {-1, -1};
  void* first_conn_ = nullptr; // the PGconn opened by the constructor
  std::thread thread_;
};

} // namespace pl::plc::store
