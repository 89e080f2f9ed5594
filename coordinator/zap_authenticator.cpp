#include "coordinator/zap_authenticator.h"

#include <zmq_addon.hpp>

#include "core/log.h"

namespace gossamer::coordinator {

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& allowed)
    : socket_(context, zmq::socket_type::rep), allowed_(allowed.begin(), allowed.end()) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { loop(); });
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapAuthenticator::loop() {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
    // version, request id, domain, address, routing id, mechanism, credentials...
    bool ok = false;
    std::string who = "?";
    if (request.size() >= 7 && request[0].to_string_view() == "1.0" && request[5].to_string_view() == "CURVE" &&
        request[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      who = z85;
      ok = allowed_.count(who) > 0;
    }
    if (!ok) {
      refused_.fetch_add(1);
      GLOG_WARN("front door: refused a CURVE client (key {}, from {})", who,
                request.size() > 3 ? request[3].to_string() : std::string("?"));
    }
    const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
    std::vector<zmq::message_t> reply;
    reply.emplace_back(std::string("1.0"));
    reply.emplace_back(request_id);
    reply.emplace_back(std::string(ok ? "200" : "400"));
    reply.emplace_back(std::string(ok ? "OK" : "client key not allowed"));
    reply.emplace_back(ok ? who : std::string());  // user id
    reply.emplace_back();                          // metadata
    zmq::send_multipart(socket_, reply);
  }
}

}  // namespace gossamer::coordinator
