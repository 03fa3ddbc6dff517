// A protobuf wire-format encoder, just what the Perfetto writer needs: the
// runtime takes no dependencies, so it carries its own. Fields are written
// in the order they are given; a nested message gets its length written in
// front of it when it ends, in the fewest bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace coroscope::detail::proto {

class writer {
public:
  explicit writer(std::string &out) : out_(out) {}

  void varint(std::uint32_t field, std::uint64_t value) {
    tag(field, 0);
    raw_varint(value);
  }
  void fixed64(std::uint32_t field, std::uint64_t value) {
    tag(field, 1);
    for (int i = 0; i < 8; ++i)
      out_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
  void bytes(std::uint32_t field, std::string_view value) {
    tag(field, 2);
    raw_varint(value.size());
    out_.append(value);
  }

  // A nested message, from begin() to end(begin's result).
  [[nodiscard]] std::size_t begin(std::uint32_t field) {
    tag(field, 2);
    out_.push_back(0); // the length, if it fits in one byte
    return out_.size();
  }
  void end(std::size_t start) {
    std::size_t size = out_.size() - start;
    if (size < 0x80) {
      out_[start - 1] = static_cast<char>(size);
      return;
    }
    char length[10];
    std::size_t n = 0;
    std::uint64_t v = size;
    for (; v >= 0x80; v >>= 7)
      length[n++] = static_cast<char>((v & 0x7F) | 0x80);
    length[n++] = static_cast<char>(v);
    out_.insert(start, n - 1, '\0');
    out_.replace(start - 1, n, length, n);
  }

private:
  void tag(std::uint32_t field, std::uint32_t wire_type) {
    raw_varint((std::uint64_t{field} << 3) | wire_type);
  }
  void raw_varint(std::uint64_t value) {
    for (; value >= 0x80; value >>= 7)
      out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
    out_.push_back(static_cast<char>(value));
  }

  std::string &out_;
};

// Scopes a nested message: the length is written when it goes out of scope.
class message {
public:
  message(writer &w, std::uint32_t field) : w_(w), start_(w.begin(field)) {}
  ~message() { w_.end(start_); }
  message(const message &) = delete;
  message &operator=(const message &) = delete;

private:
  writer &w_;
  std::size_t start_;
};

} // namespace coroscope::detail::proto
