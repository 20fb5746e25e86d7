// A validation problem at a field path of a netrig resource. One type for every front end
// (netrigctl, REST API, operator), so the same input gives the same list everywhere.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace netrig::spec {

struct FieldError {
  // Path in the YAML/JSON spelling the user wrote (camelCase keys, [i] list indexes, map keys
  // as .key or ["key.with.dots"]): "spec.benchmark.rfc2544.frameSizes[2]". Empty for errors
  // about the whole input (YAML syntax, empty document).
  std::string path;
  // Why, in words a user can act on: "20 is below the 64-byte minimum".
  std::string message;
  // 1-based position of the offending value in the source text; 0 when unknown (a message that
  // came over gRPC/REST as a proto, or an error about something missing).
  int line = 0;
  int column = 0;

  // "path: message" (just "message" when path is empty). Positions are not included: front
  // ends that have the file name add them ("spec.yaml:12:5: ...").
  std::string ToString() const;

  friend bool operator==(const FieldError& a, const FieldError& b) {
    return a.path == b.path && a.message == b.message;
  }
};

std::ostream& operator<<(std::ostream& os, const FieldError& e);

// One ToString() per line, in order.
std::string JoinErrors(const std::vector<FieldError>& errors);

}  // namespace netrig::spec
