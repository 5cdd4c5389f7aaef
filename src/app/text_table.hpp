#pragma once
// The CLI's tables (`dlq list`, `history`): columns padded to their widest cell, two spaces
// apart, and cells made safe to print (event data may hold control characters).

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::app {

// `text` with control characters shown as '?', or "-" when empty.
std::string table_cell(std::string text);

// Prints `rows` (the first is the header), each padded to the widest cell of its column.
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out);

// "1 dead letter", "3 events".
std::string plural(std::size_t n, std::string_view one, std::string_view many);

}  // namespace eventrouter::app
