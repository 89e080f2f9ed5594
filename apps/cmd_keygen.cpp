// gossamer keygen: a ZeroMQ CURVE key pair for the front door or one of its clients
// (protocol/curve_keys.h): PREFIX.key (secret, mode 0600) and PREFIX.pub (public).
#include <cstdio>

#include "apps/commands.h"
#include "protocol/curve_keys.h"

namespace gossamer::apps {

void add_keygen_command(CLI::App& app) {
  auto prefix = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("keygen", "Write a ZeroMQ CURVE key pair: PREFIX.key (secret) and PREFIX.pub");
  cmd->add_option("prefix", *prefix, "Path prefix of the two files")->required();
  cmd->callback([prefix] {
    const protocol::CurveKeyPair pair = protocol::write_curve_keypair(*prefix);
    std::printf("%s.key (secret), %s.pub (public key %s)\n", prefix->c_str(), prefix->c_str(), pair.public_key.c_str());
  });
}

}  // namespace gossamer::apps
