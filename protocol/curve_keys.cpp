#include "protocol/curve_keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <fstream>

#include "core/error.h"

namespace gossamer::protocol {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> key_lines(const std::string& path) {
  std::ifstream f(path);
  if (!f) GOSSAMER_THROW(kNotFound, "cannot read the CURVE key file '{}'", path);
  std::vector<std::string> keys;
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (!valid_curve_key(line))
      GOSSAMER_THROW(kInvalidArgument, "{}:{}: not a CURVE key (40 Z85 characters)", path, n);
    keys.push_back(line);
  }
  return keys;
}

}  // namespace

bool valid_curve_key(const std::string& z85) {
  if (z85.size() != 40) return false;
  uint8_t bytes[32];
  return zmq_z85_decode(bytes, z85.c_str()) != nullptr;
}

CurveKeyPair generate_curve_keypair() {
  if (!zmq_has("curve")) GOSSAMER_THROW(kUnsupported, "this libzmq was built without CURVE");
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) GOSSAMER_THROW(kInternal, "zmq_curve_keypair failed: {}", zmq_strerror(zmq_errno()));
  return {pub, sec};
}

std::string curve_public_of(const std::string& secret_key) {
  if (!valid_curve_key(secret_key)) GOSSAMER_THROW(kInvalidArgument, "not a CURVE secret key (40 Z85 characters)");
  char pub[41];
  if (zmq_curve_public(pub, secret_key.c_str()) != 0)
    GOSSAMER_THROW(kUnsupported, "zmq_curve_public failed: {}", zmq_strerror(zmq_errno()));
  return pub;
}

std::string read_curve_key(const std::string& path) {
  auto keys = key_lines(path);
  if (keys.size() != 1) GOSSAMER_THROW(kInvalidArgument, "'{}' must hold exactly one CURVE key, not {}", path, keys.size());
  return keys[0];
}

std::vector<std::string> read_curve_key_list(const std::string& path) { return key_lines(path); }

CurveKeyPair write_curve_keypair(const std::string& prefix) {
  const CurveKeyPair pair = generate_curve_keypair();
  const std::string secret_path = prefix + ".key", public_path = prefix + ".pub";
  {
    std::ofstream f(secret_path, std::ios::trunc);
    if (!f) GOSSAMER_THROW(kIo, "cannot write {}", secret_path);
    ::chmod(secret_path.c_str(), 0600);  // before the secret goes in
    f << "# ZeroMQ CURVE secret key (keep private)\n" << pair.secret_key << "\n";
  }
  std::ofstream f(public_path, std::ios::trunc);
  if (!f) GOSSAMER_THROW(kIo, "cannot write {}", public_path);
  f << "# ZeroMQ CURVE public key\n" << pair.public_key << "\n";
  return pair;
}

}  // namespace gossamer::protocol
