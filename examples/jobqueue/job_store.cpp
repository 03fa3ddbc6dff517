#include "job_store.h"
#include "registry.h"

#include <cstdlib>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace jobqueue {

std::mutex clients_mutex;
std::uint64_t clients = 0;
std::mutex metrics_mutex;
std::uint64_t metrics_exports = 0;

std::string export_metrics() {
  // BUG (lock order inversion across files): metrics_mutex, then
  // clients_mutex; count_client() in server.cpp takes them the other way
  // round. Each file alone is consistent: `coroscope lockgraph` finds it.
  std::lock_guard metrics_lock(metrics_mutex);
  ++metrics_exports;
  std::lock_guard clients_lock(clients_mutex);
  return "clients=" + std::to_string(clients) +
         " exports=" + std::to_string(metrics_exports);
}

bool JobStore::push(std::string payload, std::uint64_t &id) {
  std::lock_guard queue_lock(queue_mutex_);
  if (queue_.size() >= capacity_)
    return false;
  id = next_id_++;
  std::string kind = payload.substr(0, payload.find(' '));
  queue_.push_back({id, std::move(payload)});
  // Lock order: queue_mutex_, then stats_mutex_.
  std::lock_guard stats_lock(stats_mutex_);
  ++stats_.submitted;
  ++stats_.by_kind[kind];
  return true;
}

std::optional<Job> JobStore::pop() {
  std::lock_guard lock(queue_mutex_);
  if (queue_.empty())
    return std::nullopt;
  Job job = std::move(queue_.front());
  queue_.pop_front();
  return job;
}

constexpr std::uint64_t snapshot_every = 10;

static std::string snapshot_path() {
  const char *path = std::getenv("JOBQUEUE_SNAPSHOT");
  return path ? path : "/dev/null";
}

/// Writes `contents` to `path` and waits until they are on disk.
static void write_durably(const std::string &path,
                          const std::string &contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return;
  if (::write(fd, contents.data(), contents.size()) >= 0)
    ::fsync(fd);
  ::close(fd);
}

void JobStore::complete(const Job &) {
  std::lock_guard lock(stats_mutex_);
  ++stats_.completed;
  // BUG (blocking call, across files): the snapshot is written and fsynced
  // on the calling thread. The worker coroutine in server.cpp calls
  // complete(), and there it stalls every coroutine on its thread until the
  // disk answers; server.cpp sees only the declaration of complete(), so
  // only `coroscope link` over both files' facts finds the chain.
  if (stats_.completed % snapshot_every == 0)
    save_snapshot();
}

void JobStore::save_snapshot() {
  std::ostringstream out;
  out << "submitted " << stats_.submitted << "\ncompleted "
      << stats_.completed << '\n';
  for (const auto &[kind, count] : stats_.by_kind)
    out << "kind " << kind << ' ' << count << '\n';
  write_durably(snapshot_path(), out.str());
}

std::string JobStore::report() {
  // BUG (lock order inversion): stats_mutex_, then queue_mutex_; push()
  // takes them the other way round, so the two can deadlock.
  std::lock_guard stats_lock(stats_mutex_);
  std::lock_guard queue_lock(queue_mutex_);
  std::ostringstream out;
  out << "queued=" << queue_.size() << " submitted=" << stats_.submitted
      << " completed=" << stats_.completed;
  return out.str();
}

std::size_t JobStore::size() {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

} // namespace jobqueue
