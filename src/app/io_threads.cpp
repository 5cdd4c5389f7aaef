#include "io_threads.hpp"

#include <algorithm>

namespace eventrouter::app {

IoThreads::IoThreads(unsigned threads)
    : count_(std::max(1u, threads)),
      io_(static_cast<int>(count_)),
      work_(boost::asio::make_work_guard(io_)) {}

IoThreads::~IoThreads() {
  stop();
  join();
}

void IoThreads::start() {
  for (unsigned i = 0; i < count_; ++i) threads_.emplace_back([this] { io_.run(); });
}

void IoThreads::stop() {
  work_.reset();
  io_.stop();
}

void IoThreads::join() {
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  threads_.clear();
}

}  // namespace eventrouter::app
