#pragma once
// A thin RAII layer over SQLite's C API: a connection, prepared statements, and errors that
// carry SQLite's own message and result code (the journal maps SQLITE_FULL to "disk full").

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eventrouter::delivery::sqlite {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  // The primary result code (SQLITE_FULL, SQLITE_CORRUPT, ...).
  int code() const { return code_ & 0xff; }

 private:
  int code_;
};

class Statement;

class Database {
 public:
  // Opens (creating when `create`) the file; throws Error.
  Database(const std::filesystem::path& file, bool read_only);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const char* sql);
  // The first column of the first row of `sql` as text ("" when there is no row).
  std::string query_text(const char* sql);
  std::int64_t query_int(const char* sql);
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(int code, std::string_view doing) const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);  // copied by SQLite
  Statement& bind_null(int index);
  // Not copied: the text must stay valid and unchanged until run() or reset().
  Statement& bind_text_unowned(int index, std::string_view text);
  // Runs to completion (INSERT, UPDATE, DELETE); resets for reuse.
  void run();
  // Steps once: true while a row is available. reset() before reuse.
  bool step();
  void reset();

  std::int64_t column_int(int index) const;
  std::string_view column_text(int index) const;  // valid until the next step
  bool column_is_null(int index) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace eventrouter::delivery::sqlite
