#pragma once
// ZeroMQ CURVE keys (docs/SERVING.md, "Securing the front door") as Z85 text, 40
// characters per key: the front door's key pair, a client's key pair, and the list of
// client public keys the front door lets in. Files hold one key per line; lines starting
// with '#' and blank lines are skipped. `gossamer keygen` writes PREFIX.key (secret, mode
// 0600) and PREFIX.pub (public).
#include <string>
#include <vector>

namespace gossamer::protocol {

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// Throws gossamer::Error(kUnsupported) when libzmq was built without CURVE.
CurveKeyPair generate_curve_keypair();
// The public key of a Z85 secret key; throws kInvalidArgument for a malformed one.
std::string curve_public_of(const std::string& secret_key);
// True for 40 characters that decode to a 32-byte key.
bool valid_curve_key(const std::string& z85);

// The one key in `path` (kNotFound / kInvalidArgument when it holds none or a bad one).
std::string read_curve_key(const std::string& path);
// Every key in `path` (an allow-list); throws on a malformed line, naming it.
std::vector<std::string> read_curve_key_list(const std::string& path);
// Writes PREFIX.key and PREFIX.pub; returns the pair.
CurveKeyPair write_curve_keypair(const std::string& prefix);

}  // namespace gossamer::protocol
