#include <catch2/catch.hpp>

#include "loket/providers/common.hpp"

using namespace loket::providers;

TEST_CASE("media_filename names unnamed attachments by MIME type") {
  CHECK(media_filename("image/jpeg", 1) == "photo-1.jpg");
  CHECK(media_filename("audio/ogg; codecs=opus", 2) == "voice-2.ogg");
  CHECK(media_filename("video/mp4", 1) == "video-1.mp4");
  CHECK(media_filename("application/pdf", 3) == "document-3.pdf");
  CHECK(media_filename("image/heic", 1) == "photo-1");
  CHECK(media_filename("application/zip", 1) == "file-1");
}

TEST_CASE("url_under matches a base only at a path boundary") {
  CHECK(url_under("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", "https://lookaside.fbsbx.com"));
  CHECK(url_under("http://127.0.0.1:9000/media/1", "http://127.0.0.1:9000"));
  CHECK_FALSE(url_under("https://lookaside.fbsbx.com.evil.example/x", "https://lookaside.fbsbx.com"));
  CHECK_FALSE(url_under("http://127.0.0.1:90001/x", "http://127.0.0.1:9000"));
  CHECK_FALSE(url_under("https://evil.example/?u=https://lookaside.fbsbx.com", "https://lookaside.fbsbx.com"));
  CHECK_FALSE(url_under("anything", ""));
}
