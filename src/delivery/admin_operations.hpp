#pragma once
// The operator's requests on the delivery engine: replaying archived events, redriving dead
// letters, and expiring the archive past its retention. Each feeds the core the same way
// ingest does (plan, then submit), so replayed and redriven deliveries are retried and
// dead-lettered like any other.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>

#include "delivery_core.hpp"
#include "delivery_metrics.hpp"
#include "eventrouter/delivery/dispatcher.hpp"

namespace eventrouter::delivery {

class AdminOperations {
 public:
  // Starts the archive's expiry when the core archives.
  AdminOperations(boost::asio::io_context& io, DeliveryCore& core, DeliveryMetrics& metrics);

  Expected<ReplayResult, AdminError> replay(const ReplayRequest& request);
  Expected<RedriveResult, AdminError> redrive(const std::string& rule, const std::string& target);
  // Stops the archive's expiry.
  void stop();

 private:
  void schedule_archive_expiry();

  DeliveryCore& core_;
  DeliveryMetrics& metrics_;
  boost::asio::steady_timer expiry_timer_;
};

}  // namespace eventrouter::delivery
