#pragma once

#include <cstddef>
#include <cstdint>

namespace keel {

// The CRC-64 that Redis puts at the end of RDB files and DUMP payloads: the Jones polynomial
// (0xad93d23594c935a9), reflected input and output, initial value 0, no final xor. The check
// value of "123456789" is 0xe9c6d914c4b8d9ca. `crc` is the running value (0 to start).
uint64_t Crc64(uint64_t crc, const void* data, size_t len);

}  // namespace keel
