#include "gateway/gateway.h"

#include <csignal>

#include "core/error.h"
#include "core/log.h"
#include "gateway/auth.h"
#include "gateway/gateway_impl.h"

namespace gossamer::gateway {
namespace {

std::pair<std::string, int> split_listen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    GOSSAMER_THROW(kInvalidArgument, "--listen '{}': expected HOST:PORT", listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) GOSSAMER_THROW(kInvalidArgument, "--listen '{}': bad port", listen);
  return {host, port};
}

void send_json(httplib::Response& res, const nlohmann::json& j) { res.set_content(j.dump(), "application/json"); }

}  // namespace

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  send_json(res, e.to_json());
}

std::optional<std::string> Gateway::Impl::model_name() {
  {
    std::lock_guard lock(model_mu_);
    if (model_) return model_;
  }
  auto h = upstream.health(options.probe_timeout);
  if (!h) return std::nullopt;
  std::lock_guard lock(model_mu_);
  model_ = h->model.empty() ? std::string("gossamer") : h->model;
  return model_;
}

Gateway::Gateway(GatewayOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& g = *impl_;
  std::tie(g.host, g.port) = split_listen(g.options.listen);
  if (!g.options.api_key_file.empty()) g.api_keys = load_api_keys(g.options.api_key_file);
  check_listen_policy(g.host, !g.api_keys.empty(), g.options.insecure);
  // A peer that closes a stream must not kill the process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  auto& s = g.server;
  const int threads = std::max(4, g.options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(g.options.max_body_bytes);
  s.set_read_timeout(30, 0);
  s.set_write_timeout(30, 0);
  s.set_keep_alive_max_count(1000);
  s.set_tcp_nodelay(true);

  // Only the API needs a key; /health and /metrics stay open to probes and scrapers.
  s.set_pre_routing_handler([&g](const httplib::Request& req, httplib::Response& res) {
    if (g.api_keys.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (bearer_matches(req.get_header_value("Authorization"), g.api_keys))
      return httplib::Server::HandlerResponse::Unhandled;
    g.metrics.finished(Outcome::kClientError);
    send_error(res, {401, "missing or invalid API key: send 'Authorization: Bearer <key>'",
                     "invalid_request_error", std::nullopt, std::string("invalid_api_key"), 0});
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses the library sets itself (unknown route, body too large) get an OpenAI body too.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404)
      send_error(res, {404, "no route " + req.method + " " + req.path, "invalid_request_error", std::nullopt,
                       std::string("not_found"), 0});
    else if (res.status == 413)
      send_error(res, {413, "request body too large", "invalid_request_error", std::nullopt,
                       std::string("too_large"), 0});
    else
      send_error(res, {res.status, "HTTP error " + std::to_string(res.status), "invalid_request_error",
                       std::nullopt, std::nullopt, 0});
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, {500, "internal error: " + what, "server_error", std::nullopt, std::string("internal"), 0});
  });

  s.Post("/v1/chat/completions", [&g](const httplib::Request& req, httplib::Response& res) {
    handle_inference(g, req, res, true);
  });
  s.Post("/v1/completions", [&g](const httplib::Request& req, httplib::Response& res) {
    handle_inference(g, req, res, false);
  });
  s.Get("/v1/models", [&g](const httplib::Request&, httplib::Response& res) {
    auto name = g.model_name();
    if (!name) return send_error(res, {503, "the cluster does not answer", "service_unavailable", std::nullopt,
                                       std::string("upstream_unavailable"), 5});
    send_json(res, {{"object", "list"},
                    {"data", nlohmann::json::array({{{"id", *name}, {"object", "model"}, {"created", 0},
                                                     {"owned_by", "gossamer"}}})}});
  });
  s.Get(R"(/v1/models/(.+))", [&g](const httplib::Request& req, httplib::Response& res) {
    auto name = g.model_name();
    if (!name) return send_error(res, {503, "the cluster does not answer", "service_unavailable", std::nullopt,
                                       std::string("upstream_unavailable"), 5});
    if (req.matches[1] != *name)
      return send_error(res, {404, "the model '" + std::string(req.matches[1]) + "' does not exist", "invalid_request_error",
                              std::string("model"), std::string("model_not_found"), 0});
    send_json(res, {{"id", *name}, {"object", "model"}, {"created", 0}, {"owned_by", "gossamer"}});
  });
  // Readiness: 200 only when the front door answers a health request now.
  s.Get("/health", [&g](const httplib::Request&, httplib::Response& res) {
    auto h = g.upstream.health(g.options.probe_timeout);
    if (!h || h->status == "shutting_down") {
      res.status = 503;
      return send_json(res, {{"status", h ? h->status : "unreachable"}, {"upstream", g.upstream.endpoint()}});
    }
    send_json(res, {{"status", h->status}, {"model", h->model}, {"world_size", h->world_size}, {"uptime_s", h->uptime_s}});
  });
  s.Get("/metrics", [&g](const httplib::Request&, httplib::Response& res) {
    res.set_content(g.metrics.render(g.upstream.stats(g.options.probe_timeout)), "text/plain; version=0.0.4");
  });
}

Gateway::~Gateway() { stop(); }

void Gateway::start() {
  Impl& g = *impl_;
  if (g.port == 0) {
    g.port = g.server.bind_to_any_port(g.host);
    if (g.port <= 0) GOSSAMER_THROW(kIo, "cannot listen on {}:*", g.host);
  } else if (!g.server.bind_to_port(g.host, g.port)) {
    GOSSAMER_THROW(kIo, "cannot listen on {}:{} (in use, or not an address of this machine)", g.host, g.port);
  }
  g.serving = std::thread([&g] { g.server.listen_after_bind(); });
  GLOG_INFO("gateway: http://{}:{} -> {}", g.host, g.port, g.upstream.endpoint());
}

void Gateway::stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->serving.joinable()) impl_->serving.join();
}

int Gateway::port() const { return impl_->port; }
const Metrics& Gateway::metrics() const { return impl_->metrics; }

}  // namespace gossamer::gateway
