#include "eventrouter/targets/process.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <ctime>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace eventrouter::targets {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int value) : fd(value) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.fd = fds[0];
  write_end.fd = fds[1];
  return true;
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Reads what is available; returns false at end of file (or on an error).
bool read_some(int fd, std::string& into, bool& truncated, std::size_t limit) {
  std::array<char, 16384> buffer;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n > 0) {
      const std::size_t room = limit > into.size() ? limit - into.size() : 0;
      const std::size_t keep = std::min(room, static_cast<std::size_t>(n));
      into.append(buffer.data(), keep);
      if (keep < static_cast<std::size_t>(n)) truncated = true;  // keep draining, keep nothing
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

// A write to a pipe whose reader left raises SIGPIPE on this thread (it is blocked there by the
// worker pool); consume it so it is never delivered later.
void discard_pending_sigpipe() {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  const timespec zero{0, 0};
  while (::sigtimedwait(&pipe_signal, nullptr, &zero) == SIGPIPE) {
  }
}

// True once no process is left in the group (a zombie leader still counts until reaped).
bool group_gone(pid_t group) {
  return ::kill(-group, 0) != 0 && errno == ESRCH;
}

// The child's stdin, stdout and stderr. Both ends exist until the spawn; then the parent keeps
// its own, non-blocking.
struct Pipes {
  Fd in_read, in_write, out_read, out_write, err_read, err_write;

  bool open() {
    return make_pipe(in_read, in_write) && make_pipe(out_read, out_write) &&
           make_pipe(err_read, err_write);
  }

  // After the spawn: the child's ends are the child's now. With no input, stdin is closed at
  // once so the child sees end of file.
  void keep_parent_ends(bool no_input) {
    in_read.reset();
    out_write.reset();
    err_write.reset();
    set_nonblocking(in_write.fd);
    set_nonblocking(out_read.fd);
    set_nonblocking(err_read.fd);
    if (no_input) in_write.reset();
  }
};

// Starts request.argv in its own process group, with the pipes as descriptors 0, 1 and 2 and
// nothing else open. Returns 0, or the errno of the failure.
int spawn(const ProcessRequest& request, const Pipes& pipes, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipes.in_read.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, pipes.out_write.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, pipes.err_write.fd, 2);
  // Descriptors the daemon opened without O_CLOEXEC must not leak into runbooks.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawn_file_actions_addchdir_np(&actions, request.working_dir.c_str());

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, so a timeout can end everything it started; default signal
  // dispositions and an empty mask, whatever the daemon's threads use.
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attributes, &signals);
  sigfillset(&signals);
  sigdelset(&signals, SIGKILL);
  sigdelset(&signals, SIGSTOP);
  posix_spawnattr_setsigdefault(&attributes, &signals);

  std::vector<char*> argv;
  for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : request.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  const int spawned = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return spawned;
}

// The running child and, once it is being ended, how far that has got.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}

  // Collects the child's exit status if it has ended (waiting for it when `block`).
  void reap(bool block) {
    if (exited_) return;
    if (::waitpid(pid_, &status_, block ? 0 : WNOHANG) == pid_) exited_ = true;
  }
  bool exited() const { return exited_; }
  int status() const { return status_; }

  // Starts ending the whole group: SIGTERM now, SIGKILL once `kill_grace` has passed.
  void terminate(Clock::time_point now, std::chrono::milliseconds kill_grace) {
    terminating_ = true;
    ::kill(-pid_, SIGTERM);
    kill_at_ = now + kill_grace;
  }
  bool terminating() const { return terminating_; }

  // One tick of ending the group; true once it is over (every process gone, or SIGKILL sent
  // and the child reaped).
  bool termination_done(Clock::time_point now) {
    reap(false);
    if (exited_ && group_gone(pid_)) return true;
    if (!killed_ && now >= kill_at_) {
      killed_ = true;
      ::kill(-pid_, SIGKILL);
    }
    if (!killed_) return false;
    reap(true);
    // Whatever else was in the group got SIGKILL too; give the kernel a moment to finish.
    for (int i = 0; i < 100 && !group_gone(pid_); ++i) ::usleep(10000);
    return true;
  }

 private:
  pid_t pid_;
  int status_ = 0;
  bool exited_ = false;
  bool terminating_ = false;  // SIGTERM sent
  bool killed_ = false;       // SIGKILL sent
  Clock::time_point kill_at_{};
};

// One tick of talking to the child: waits (briefly) until a pipe is ready, then writes what
// stdin takes and reads what stdout and stderr hold. Closes each pipe when it is done with.
void pump(const ProcessRequest& request, Pipes& pipes, std::size_t& written,
          ProcessResult& result) {
  std::array<pollfd, 3> fds{};
  nfds_t count = 0;
  int in_index = -1, out_index = -1, err_index = -1;
  if (pipes.in_write.fd >= 0) {
    in_index = static_cast<int>(count);
    fds[count++] = {pipes.in_write.fd, POLLOUT, 0};
  }
  if (pipes.out_read.fd >= 0) {
    out_index = static_cast<int>(count);
    fds[count++] = {pipes.out_read.fd, POLLIN, 0};
  }
  if (pipes.err_read.fd >= 0) {
    err_index = static_cast<int>(count);
    fds[count++] = {pipes.err_read.fd, POLLIN, 0};
  }
  // A short tick: exits are noticed by waitpid, and the abort time may move.
  ::poll(fds.data(), count, 20);

  if (in_index >= 0 && fds[in_index].revents) {
    const ssize_t n =
        ::write(pipes.in_write.fd, request.input.data() + written, request.input.size() - written);
    if (n > 0) written += static_cast<std::size_t>(n);
    if (n < 0 && errno == EPIPE) discard_pending_sigpipe();
    if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == request.input.size()) {
      pipes.in_write.reset();  // done, or the runbook stopped reading: it gets what it took
    }
  }
  if (out_index >= 0 && fds[out_index].revents &&
      !read_some(pipes.out_read.fd, result.out, result.out_truncated, request.output_limit)) {
    pipes.out_read.reset();
  }
  if (err_index >= 0 && fds[err_index].revents &&
      !read_some(pipes.err_read.fd, result.err, result.err_truncated, request.output_limit)) {
    pipes.err_read.reset();
  }
}

// How a child that ended by itself ended.
void record_exit(int status, ProcessResult& result) {
  if (WIFEXITED(status)) {
    result.status = ProcessResult::Status::kExited;
    result.exit_code = WEXITSTATUS(status);
  } else {
    result.status = ProcessResult::Status::kSignaled;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
}

}  // namespace

ProcessResult run_process(const ProcessRequest& request) {
  ProcessResult result;
  const auto start = Clock::now();
  Pipes pipes;
  if (request.argv.empty() || !pipes.open()) {
    result.spawn_error = request.argv.empty() ? EINVAL : errno;
    return result;
  }
  pid_t pid = -1;
  if (const int error = spawn(request, pipes, pid); error != 0) {
    result.spawn_error = error;
    return result;
  }
  pipes.keep_parent_ends(request.input.empty());

  Child child(pid);
  std::size_t written = 0;
  const auto deadline = start + request.timeout;
  // Bounded: the deadline and the kill grace end every loop; SIGKILL cannot be ignored.
  while (true) {
    const auto now = Clock::now();
    const bool aborting =
        request.abort_at != nullptr && now.time_since_epoch().count() >= request.abort_at->load();
    if (!child.terminating() && (now >= deadline || aborting)) {
      result.status =
          now >= deadline ? ProcessResult::Status::kTimedOut : ProcessResult::Status::kAborted;
      child.terminate(now, request.kill_grace);
    }
    if (child.terminating()) {
      if (child.termination_done(now)) break;
    } else {
      child.reap(false);
      if (child.exited()) break;
    }
    pump(request, pipes, written, result);
  }

  // Collect what the process wrote just before it ended; anything its leftover children write
  // later is not ours to wait for.
  if (pipes.out_read.fd >= 0)
    read_some(pipes.out_read.fd, result.out, result.out_truncated, request.output_limit);
  if (pipes.err_read.fd >= 0)
    read_some(pipes.err_read.fd, result.err, result.err_truncated, request.output_limit);

  if (!child.terminating()) record_exit(child.status(), result);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

}  // namespace eventrouter::targets
