// jobqueue: process-wide tables shared by the server and the job store.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace jobqueue {

/// Guards `clients`: the connections seen so far.
extern std::mutex clients_mutex;
extern std::uint64_t clients;
/// Guards `metrics_exports`: the metric snapshots taken so far.
extern std::mutex metrics_mutex;
extern std::uint64_t metrics_exports;

/// One line of metrics for the operator (job_store.cpp).
std::string export_metrics();

} // namespace jobqueue
