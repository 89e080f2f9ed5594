// Every JSON example in docs/PROTOCOL.md must be a valid message, so the page cannot drift
// from the parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "protocol/parse.h"

using namespace gossamer::protocol;

namespace {

std::vector<std::string> json_blocks(const std::string& doc) {
  std::vector<std::string> blocks;
  size_t pos = 0;
  while ((pos = doc.find("```json\n", pos)) != std::string::npos) {
    const size_t start = pos + 8, end = doc.find("```", start);
    blocks.push_back(doc.substr(start, end - start));
    pos = end + 3;
  }
  return blocks;
}

// Consecutive lines joined until they form one JSON value: a block may hold several
// messages, each on one or more lines.
std::vector<std::string> messages_in(const std::string& block) {
  std::vector<std::string> messages;
  std::istringstream in(block);
  std::string pending;
  for (std::string line; std::getline(in, line);) {
    pending += line + "\n";
    if (nlohmann::json::accept(pending)) {
      messages.push_back(pending);
      pending.clear();
    }
  }
  EXPECT_TRUE(pending.find_first_not_of(" \n") == std::string::npos) << "not JSON: " << pending;
  return messages;
}

}  // namespace

TEST(DocExamples, EveryExampleParses) {
  std::ifstream in(std::string(GOSSAMER_TEST_DATA) + "/../../docs/PROTOCOL.md");
  ASSERT_TRUE(in) << "docs/PROTOCOL.md not found";
  std::stringstream doc;
  doc << in.rdbuf();
  int client = 0, server = 0;
  for (const std::string& block : json_blocks(doc.str())) {
    for (const std::string& m : messages_in(block)) {
      auto c = parse_client_message(m);
      auto s = parse_server_message(m);
      EXPECT_TRUE(c.ok() || s.ok()) << m << "\nclient: " << (c.ok() ? "" : c.error().message)
                                    << "\nserver: " << (s.ok() ? "" : s.error().message);
      client += c.ok();
      server += s.ok() && !c.ok();
    }
  }
  EXPECT_GE(client, 4);  // submit, cancel, health, stats
  EXPECT_GE(server, 6);  // accepted, delta, done, 2 errors, health, stats
}
