#pragma once
// The operator endpoints, POST /replays and POST /dead-letters/redrive: their JSON bodies
// checked and turned into dispatcher calls that run on threads of their own (a replay may take
// minutes; the I/O threads must keep serving ingest meanwhile).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/server/router.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// The request body of POST /replays, checked; the error says what to fix.
Expected<delivery::ReplayRequest, std::string> parse_replay_request(std::string_view body);

class AdminApi {
 public:
  explicit AdminApi(delivery::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~AdminApi();  // waits for requests still running (the dispatcher's shutdown ends them)
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  server::RouterServices::AdminHandler replay_handler();
  server::RouterServices::AdminHandler redrive_handler();

 private:
  void run(std::function<void()> work);

  delivery::Dispatcher& dispatcher_;
  std::mutex mutex_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;
};

}  // namespace eventrouter::app
