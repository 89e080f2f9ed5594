#include "coordinator/service.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/log.h"

namespace gossamer::coordinator {
namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

// The step loop's state; lives for one run().
struct Service::Loop {
  Service& svc;
  FrontDoor& front;
  Outbox& out;
  Inbox& inbox;
  StatsBoard& board;
  Scheduler scheduler;
  uint64_t step = 0;
  int64_t completed = 0, overloaded = 0, cancelled = 0, failed = 0;
  int64_t tokens_generated = 0;
  Clock::time_point last_plan = Clock::now();

  void reply_error(Request& r, protocol::ErrorCode code, const std::string& message) {
    protocol::ErrorReply e;
    e.code = code;
    e.message = message;
    e.id = r.id;
    out.send(r.connection, e);
  }

  void send_pieces(Request& r, std::vector<OutputPiece>& pieces) {
    if (!r.stream) return;
    for (auto& p : pieces) {
      protocol::Delta d;
      d.id = r.id;
      d.seq = r.next_delta_seq++;
      d.channel = p.channel;
      d.text = std::move(p.text);
      d.token_ids = std::move(p.token_ids);
      d.tool_call = std::move(p.tool_call);
      out.send(r.connection, d);
    }
  }

  // Sends the terminal `done`. The request has left the scheduler (blocks freed).
  void finish(Request& r, protocol::FinishReason reason, bool flush) {
    if (flush) {
      std::vector<OutputPiece> pieces;
      r.output->finish(pieces);
      send_pieces(r, pieces);
    }
    const auto now = Clock::now();
    protocol::Done d;
    d.id = r.id;
    d.finish_reason = reason;
    d.usage.prompt_tokens = r.prompt_tokens;
    d.usage.completion_tokens = r.generated();
    d.usage.cached_tokens = r.cached_tokens;
    d.timings.queue_ms = r.scheduled_once ? ms_between(r.received, r.first_scheduled) : ms_between(r.received, now);
    d.timings.ttft_ms = r.has_first_token ? ms_between(r.received, r.first_token) : 0;
    d.timings.total_ms = ms_between(r.received, now);
    if (!r.stream) d.output = r.output->output();
    out.send(r.connection, d);
    ++completed;
    if (reason == protocol::FinishReason::kCancelled) ++cancelled;
  }

  void on_event(InboxEvent& ev) {
    if (auto* n = std::get_if<NewRequest>(&ev)) {
      auto& r = n->request;
      if (static_cast<int>(scheduler.num_waiting()) >= svc.options_.max_queue) {
        ++overloaded;
        reply_error(*r, protocol::ErrorCode::kOverloaded,
                    "the queue is full (" + std::to_string(svc.options_.max_queue) + " waiting); retry later");
        return;
      }
      protocol::Accepted a;
      a.id = r->id;
      a.queue_position = static_cast<int64_t>(scheduler.num_waiting());
      out.send(r->connection, a);
      scheduler.enqueue(std::move(r));
    } else if (auto* c = std::get_if<CancelRequest>(&ev)) {
      if (auto r = remove_request(scheduler, c->connection, c->id)) {
        finish(*r, protocol::FinishReason::kCancelled, true);
      } else {  // it ended just before the cancel arrived
        protocol::ErrorReply e;
        e.code = protocol::ErrorCode::kUnknownId;
        e.message = "cancel: no request '" + c->id + "' in flight on this connection";
        e.ref = c->id;
        out.send(c->connection, e);
      }
    } else if (auto* g = std::get_if<ConnectionGone>(&ev)) {
      for (const auto& id : g->ids)
        if (remove_request(scheduler, g->connection, id)) ++cancelled;
    } else if (auto* q = std::get_if<StatsQuery>(&ev)) {
      protocol::StatsReply s = stats();
      s.id = q->id;
      s.rejected += front.rejected();
      out.send(q->connection, s);
    }
  }

  // The counters now, without the front door's refusals (it adds them when it answers).
  protocol::StatsReply stats() const {
    protocol::StatsReply s;
    s.queued = static_cast<int64_t>(scheduler.num_waiting());
    s.running = static_cast<int64_t>(scheduler.num_running());
    s.completed = completed;
    s.rejected = overloaded;
    s.kv_blocks_total = scheduler.blocks_total();
    s.kv_blocks_used = scheduler.blocks_used();
    s.extra = {{"kv_blocks_cached", scheduler.blocks_cached()},
               {"kv_window_blocks_total", scheduler.window_blocks_total()},
               {"kv_window_blocks_used", scheduler.window_blocks_used()},
               {"kv_window_blocks_cached", scheduler.window_blocks_cached()},
               {"prefix_cache_hit_blocks", scheduler.prefix_hit_blocks()},
               {"preemptions", scheduler.preemptions()},
               {"cancelled", cancelled},
               {"overloaded", overloaded},
               {"tokens_generated", tokens_generated},
               {"steps", static_cast<int64_t>(step)},
               {"kv_block_size", scheduler.options().kv.block_size},
               {"dp_replicas", scheduler.options().dp}};
    return s;
  }

  // Every run_step goes through here: while it runs, `stats` is answered by the front door
  // from the snapshot taken just before (coordinator/stats_board.h).
  const worker::StepResult& run_step(worker::StepPlan& plan) {
    board.step_started(stats());
    struct EndStep {
      StatsBoard& b;
      ~EndStep() { b.step_ended(); }
    } end_step{board};
    return svc.executor_.run_step(&plan);
  }

  void on_token(Request& r, int32_t token) {
    r.tokens.push_back(token);
    ++tokens_generated;
    if (!r.has_first_token) {
      r.has_first_token = true;
      r.first_token = Clock::now();
    }
    std::vector<OutputPiece> pieces;
    std::optional<protocol::FinishReason> reason;
    bool flush = false;
    try {
      reason = r.output->push(token, pieces);
    } catch (const Error& e) {  // a model id the tokenizer cannot show: fail this request only
      auto gone = scheduler.remove(&r);
      reply_error(*gone, protocol::ErrorCode::kInternal, std::string("detokenizing: ") + e.what());
      ++failed;
      return;
    }
    send_pieces(r, pieces);
    if (!reason && r.generated() >= r.max_tokens) reason = protocol::FinishReason::kLength, flush = true;
    if (!reason && static_cast<int64_t>(r.tokens.size()) >= svc.options_.max_context)
      reason = protocol::FinishReason::kContext, flush = true;
    if (!reason) return;
    auto gone = scheduler.remove(&r);
    finish(*gone, *reason, flush);
  }

  void run_idle_plan() {
    worker::StepPlan plan;
    plan.step = step++;
    plan.command = worker::StepCommand::kIdle;
    run_step(plan);
    last_plan = Clock::now();
  }

  void run_one_step() {
    worker::StepPlan plan = scheduler.plan_step(step);
    if (plan.sequences.empty()) {  // nothing could be scheduled this round (blocks)
      if (Clock::now() - last_plan >= svc.options_.heartbeat / 2) run_idle_plan();
      return;
    }
    ++step;
    const auto now = Clock::now();
    for (const auto& s : scheduler.scheduled())
      if (!s.request->scheduled_once) {
        s.request->scheduled_once = true;
        s.request->first_scheduled = now;
      }
    const worker::StepResult& result = run_step(plan);
    last_plan = Clock::now();
    for (const auto& o : scheduler.apply(result))
      if (o.complete) on_token(*o.seq, o.token);
  }

  void fail_all(protocol::ErrorCode code, const std::string& message) {
    for (auto& r : scheduler.remove_all()) reply_error(*r, code, message);
    // Requests the front door queued but the loop has not seen.
    for (auto& ev : inbox.drain(std::chrono::milliseconds(0)))
      if (auto* n = std::get_if<NewRequest>(&ev)) reply_error(*n->request, code, message);
  }
};

Service::Service(worker::RankExecutor& executor, const Tokenizer& tokenizer, const ServiceOptions& options)
    : executor_(executor), tokenizer_(tokenizer), options_(options) {}

Service::~Service() = default;

void Service::run(const std::atomic<bool>& stop) {
  Inbox inbox;
  StatsBoard board;
  auto front = std::make_unique<FrontDoor>(options_.front, tokenizer_, inbox, &board);
  auto outbox = front->make_outbox();
  Loop loop{*this, *front, *outbox, inbox, board, Scheduler(options_.scheduler)};
  front->start();
  if (!options_.front.endpoint_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half an address.
    const std::string tmp = options_.front.endpoint_file + ".tmp";
    std::ofstream(tmp) << front->bound_endpoint() << "\n";
    std::rename(tmp.c_str(), options_.front.endpoint_file.c_str());
  }
  GLOG_INFO("serving on {} ({} rank(s); KV blocks of {} tokens per replica: {} full-attention, {} sliding-window "
            "(window {}); context {})",
            front->bound_endpoint(), options_.front.world_size, options_.scheduler.kv.block_size,
            options_.scheduler.kv.full_blocks, options_.scheduler.kv.window_blocks, options_.scheduler.kv.window,
            options_.max_context);
  // Closes the reply channel and lets the front door flush it before it goes away; the
  // outbox socket must close before the front door's context ends.
  auto close_front = [&] {
    outbox->close();
    front->request_stop();
    front->join();
    outbox.reset();
    front.reset();
  };
  try {
    while (!stop.load()) {
      const auto wait = loop.scheduler.idle() ? std::chrono::milliseconds(50) : std::chrono::milliseconds(0);
      for (auto& ev : inbox.drain(wait)) loop.on_event(ev);
      if (stop.load()) break;
      if (loop.scheduler.idle()) {
        if (Clock::now() - loop.last_plan >= options_.heartbeat) loop.run_idle_plan();
        continue;
      }
      loop.run_one_step();
    }
  } catch (const Error& e) {
    const bool comm = e.code() == ErrorCode::kComm;
    GLOG_ERROR("step {} failed: {}", loop.step, e.what());
    loop.fail_all(comm ? protocol::ErrorCode::kRankFailure : protocol::ErrorCode::kInternal,
                  std::string(comm ? "a rank failed: " : "step failed: ") + e.what());
    close_front();
    throw;
  } catch (const std::exception& e) {  // a bug: still one terminal reply per request
    GLOG_ERROR("step {} failed: {}", loop.step, e.what());
    loop.fail_all(protocol::ErrorCode::kInternal, std::string("step failed: ") + e.what());
    close_front();
    throw;
  }
  GLOG_INFO("shutting down: {} request(s) in flight end with shutting_down", loop.scheduler.num_running() + loop.scheduler.num_waiting());
  front->request_stop();
  loop.fail_all(protocol::ErrorCode::kShuttingDown, "the server is shutting down");
  worker::StepPlan plan;
  plan.step = loop.step++;
  plan.command = worker::StepCommand::kShutdown;
  try {
    executor_.run_step(&plan);
  } catch (const Error& e) {
    GLOG_WARN("shutdown plan: {}", e.what());
  }
  close_front();
}

}  // namespace gossamer::coordinator
