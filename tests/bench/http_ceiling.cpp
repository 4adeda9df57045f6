// loket-bench-http-ceiling: the HTTP baseline of the benchmark harness (issue 7; not a test).
//   loket-bench-http-ceiling PORT
// A minimal Boost.Beast HTTP/1.1 server on 127.0.0.1:PORT in the ingress's model (one thread
// per keep-alive connection, synchronous reads and writes) that answers every request 200 with
// `{"ok":true}` and does nothing else: the ceiling the ingress is measured against, driven by
// the same load generator. Runs until killed.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: loket-bench-http-ceiling PORT\n");
    return 2;
  }
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(
      io, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});
  for (;;) {
    asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);
    std::thread([s = std::move(socket)]() mutable {
      s.set_option(asio::ip::tcp::no_delay(true));
      beast::flat_buffer buf;
      beast::error_code ec;
      for (;;) {
        http::request<http::string_body> req;
        http::read(s, buf, req, ec);
        if (ec) break;
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(req.keep_alive());
        res.body() = "{\"ok\":true}";
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec || !req.keep_alive()) break;
      }
    }).detach();
  }
}
