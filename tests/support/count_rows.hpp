#pragma once
// Reads a number out of one of the daemon's SQLite files with a read-only connection of its own:
// what is on disk, independent of the code under test and of its caches.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace eventrouter::testing {

// The first column of the first row of `sql` (a COUNT or a SUM); -1 when there is no row.
inline std::int64_t count_rows(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::int64_t n = -1;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

}  // namespace eventrouter::testing
