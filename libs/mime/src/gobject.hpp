// GMime plumbing shared by the parsers of this library (internal).
#pragma once
#include <gmime/gmime.h>

#include <memory>
#include <mutex>
#include <string>

namespace loket::mime {

/// Initialises GMime once per process; thread-safe.
inline void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

/// Drops a GObject reference.
struct Unref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};

/// An owned GObject reference.
template <typename T>
using Ref = std::unique_ptr<T, Unref>;

/// The decoded content of `part` (base64 and quoted-printable undone), as bytes.
inline std::string part_bytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  Ref<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace loket::mime
