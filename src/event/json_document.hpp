#pragma once
// Per-thread simdjson parsers for request bodies, with our depth limit and clear errors.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "eventrouter/event/envelope.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::event::detail {

// A body copied into padded memory, parsed (fully validated) as a DOM, and readable on demand.
class JsonDocument {
 public:
  // Documents alive at the same time on one thread need different slots (0 or 1): each slot
  // is one reusable parser, and parsing again invalidates what it returned before.
  explicit JsonDocument(int slot = 0) : slot_(slot) {}

  // Parses `text`; on failure the error says what is wrong and where.
  Expected<simdjson::dom::element, BodyError> parse(std::string_view text);

  // The same bytes, for an on-demand pass that reads raw sub-documents.
  const simdjson::padded_string& padded() const { return padded_; }

 private:
  int slot_;
  simdjson::padded_string padded_;
};

// A fresh on-demand parser for this thread.
simdjson::ondemand::parser& ondemand_parser();

}  // namespace eventrouter::event::detail
