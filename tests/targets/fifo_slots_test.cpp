// FifoSlots: the webhook's per-target concurrency limit and waiting line.

#include "eventrouter/targets/fifo_slots.hpp"

#include <gtest/gtest.h>

namespace eventrouter::targets {
namespace {

TEST(FifoSlots, AdmitsUpToTheLimitThenQueues) {
  FifoSlots<int> slots(2);
  EXPECT_TRUE(slots.admit(1));
  EXPECT_TRUE(slots.admit(2));
  EXPECT_FALSE(slots.admit(3));
  EXPECT_FALSE(slots.admit(4));
  EXPECT_EQ(slots.running(), 2u);
  EXPECT_EQ(slots.waiting(), 2u);
}

TEST(FifoSlots, AFreedSlotPassesToTheOldestWaiter) {
  FifoSlots<int> slots(1);
  ASSERT_TRUE(slots.admit(1));
  ASSERT_FALSE(slots.admit(2));
  ASSERT_FALSE(slots.admit(3));
  EXPECT_EQ(slots.release(), 2);
  EXPECT_EQ(slots.running(), 1u) << "the slot passed on, it was not freed";
  EXPECT_EQ(slots.release(), 3);
  EXPECT_EQ(slots.release(), std::nullopt);
  EXPECT_EQ(slots.running(), 0u);
  EXPECT_TRUE(slots.admit(4));
}

TEST(FifoSlots, TakingTheWaitingLeavesTheRunning) {
  FifoSlots<int> slots(1);
  ASSERT_TRUE(slots.admit(1));
  ASSERT_FALSE(slots.admit(2));
  ASSERT_FALSE(slots.admit(3));
  EXPECT_EQ(slots.take_waiting(), (std::vector<int>{2, 3}));
  EXPECT_EQ(slots.waiting(), 0u);
  EXPECT_EQ(slots.release(), std::nullopt);
  EXPECT_EQ(slots.running(), 0u);
}

TEST(FifoSlots, ALimitBelowOneMeansOne) {
  FifoSlots<int> slots(0);
  EXPECT_EQ(slots.limit(), 1u);
  EXPECT_TRUE(slots.admit(1));
  EXPECT_FALSE(slots.admit(2));
}

}  // namespace
}  // namespace eventrouter::targets
