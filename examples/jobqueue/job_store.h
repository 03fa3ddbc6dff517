// jobqueue: the job store shared by connections and workers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace jobqueue {

struct Job {
  std::uint64_t id = 0;
  std::string payload;
};

struct Stats {
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::map<std::string, std::uint64_t> by_kind;
};

class JobStore {
public:
  explicit JobStore(std::size_t capacity) : capacity_(capacity) {}

  /// Queues a job; false when the queue is full.
  bool push(std::string payload, std::uint64_t &id);
  std::optional<Job> pop();
  /// Marks a job done; every tenth completion also saves a snapshot of the
  /// statistics (to $JOBQUEUE_SNAPSHOT, /dev/null by default), so that a
  /// restarted server can resume its counters.
  void complete(const Job &job);
  /// A one-line summary for the STATS command.
  std::string report();
  std::size_t size();

private:
  void save_snapshot();

  std::size_t capacity_;
  std::uint64_t next_id_ = 1;
  std::deque<Job> queue_;
  Stats stats_;
  std::mutex queue_mutex_;
  std::mutex stats_mutex_;
};

} // namespace jobqueue
