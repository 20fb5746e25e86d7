// Text -> resources: YAML/JSON loading, kind dispatch, decoding and validation.
#include <algorithm>
#include <exception>
#include <functional>
#include <new>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "lib/spec/testrun.h"
#include "lib/spec/validation.h"
#include "lib/spec/yaml_decoder.h"

namespace netrig::spec {
namespace {

using internal::Quote;

constexpr int kMaxDocuments = 1000;

// Counts the documents of a stream without building nodes. yaml-cpp 0.7 has a bug: a ',' after
// a top-level value (`[1],2`, `{"a":1},"b":2}`, `"a",b`) is never consumed, and LoadAll then
// produces empty documents forever until memory runs out. Each of those documents starts at
// the same position, which is how this pre-pass recognises the loop before LoadAll runs.
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  bool stuck = false;
  YAML::Mark last;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents > 0 && mark.pos == last.pos) stuck = true;
    last = mark;
    ++documents;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

FieldError SyntaxError(const YAML::Mark& mark, absl::string_view what) {
  FieldError err{"", ""};
  if (mark.line >= 0 && mark.column >= 0) {
    err.line = mark.line + 1;
    err.column = mark.column + 1;
    err.message = absl::StrCat("line ", err.line, ", column ", err.column,
                               ": invalid YAML/JSON: ", what);
  } else {
    err.message = absl::StrCat("invalid YAML/JSON: ", what);
  }
  return err;
}

struct Loaded {
  std::vector<YAML::Node> docs;
  std::vector<FieldError> errors;
};

Loaded Load(absl::string_view text) {
  Loaded out;
  if (text.size() > kMaxInputBytes) {
    out.errors.push_back(FieldError{"", absl::StrCat("input is ", text.size(),
                                                     " bytes; the limit is ", kMaxInputBytes)});
    return out;
  }
  try {
    const std::string input(text);
    {
      std::istringstream stream(input);
      YAML::Parser parser(stream);
      DocumentCounter counter;
      while (parser.HandleNextDocument(counter)) {
        if (counter.stuck) {
          out.errors.push_back(SyntaxError(counter.last, "unexpected text after the end of a value"));
          return out;
        }
        if (counter.documents > kMaxDocuments) {
          out.errors.push_back(FieldError{"", absl::StrCat("more than ", kMaxDocuments,
                                                           " documents")});
          return out;
        }
      }
    }
    for (YAML::Node& doc : YAML::LoadAll(input)) {
      if (!doc.IsNull()) out.docs.push_back(doc);
    }
  } catch (const std::bad_alloc&) {
    throw;  // STYLE 12.5: out of memory is fatal
  } catch (const YAML::Exception& e) {
    out.docs.clear();
    out.errors.push_back(SyntaxError(e.mark, e.msg));
  } catch (const std::exception& e) {
    out.docs.clear();
    out.errors.push_back(FieldError{"", absl::StrCat("invalid YAML/JSON: ", e.what())});
  }
  return out;
}

// The scalar value of a top-level key, or "" (also when it is not a scalar).
std::string TopLevelScalar(const YAML::Node& root, absl::string_view key, bool* present,
                           bool* scalar) {
  *present = false;
  *scalar = false;
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        *present = true;
        if (it->second.IsScalar()) {
          *scalar = true;
          return it->second.Scalar();
        }
        return "";
      }
    }
  } catch (const YAML::Exception&) {
  }
  return "";
}

std::string ParentPath(const std::string& path) {
  const size_t cut = path.find_last_of(".[");
  return cut == std::string::npos ? "" : path.substr(0, cut);
}

void Locate(const SourceMap& positions, FieldError* e) {
  if (e->line > 0) return;
  for (std::string p = e->path;; p = ParentPath(p)) {
    auto it = positions.find(p);
    if (it != positions.end()) {
      e->line = it->second.line;
      e->column = it->second.column;
      return;
    }
    if (p.empty()) return;
  }
}

bool Covers(const std::string& decoded, const std::string& path) {
  if (path.size() < decoded.size() || path.compare(0, decoded.size(), decoded) != 0) return false;
  return path.size() == decoded.size() || path[decoded.size()] == '.' ||
         path[decoded.size()] == '[';
}

template <typename M>
using ValidateFn = std::function<std::vector<FieldError>(const M&, std::vector<FieldError>*)>;

// Decodes one document node of a known kind into out->object, then validates it.
template <typename M>
void DecodeAndValidate(const YAML::Node& root, absl::string_view kind, const ValidateFn<M>& validate,
                       Parsed<M>* out) {
  if (!root.IsMap()) {
    FieldError e{"", absl::StrCat("expected a mapping with apiVersion, kind, metadata and spec, got ",
                                  root.IsSequence() ? "a list" : "a single value")};
    const YAML::Mark m = root.Mark();
    if (m.line >= 0) {
      e.line = m.line + 1;
      e.column = m.column + 1;
    }
    out->errors.push_back(std::move(e));
    return;
  }
  SourceMap positions;
  DecodeOptions options;
  options.positions = &positions;
  std::vector<FieldError> decode_errors = YamlToMessage(root, &out->object, "", options);

  std::vector<FieldError> semantic;
  internal::Issues issues(&semantic, &out->warnings);
  const bool api_bad = std::any_of(decode_errors.begin(), decode_errors.end(),
                                   [](const FieldError& e) { return e.path == "apiVersion"; });
  if (out->object.api_version().empty() && !api_bad) {
    issues.Error("apiVersion", absl::StrCat("required (", kApiVersion, ")"));
  }
  const bool kind_bad = std::any_of(decode_errors.begin(), decode_errors.end(),
                                    [](const FieldError& e) { return e.path == "kind"; });
  if (out->object.kind().empty() && !kind_bad) {
    issues.Error("kind", absl::StrCat("required (", kind, ")"));
  }
  std::vector<FieldError> validated = validate(out->object, &out->warnings);
  semantic.insert(semantic.end(), validated.begin(), validated.end());

  out->errors = std::move(decode_errors);
  for (FieldError& e : semantic) {
    // A value that failed to decode is not reported again as missing or invalid.
    const bool covered = std::any_of(out->errors.begin(), out->errors.end(),
                                     [&](const FieldError& d) { return Covers(d.path, e.path); });
    if (!covered) out->errors.push_back(std::move(e));
  }
  for (FieldError& e : out->errors) Locate(positions, &e);
  for (FieldError& w : out->warnings) Locate(positions, &w);
  // Source order reads best; errors about the whole document (no position) come first.
  auto by_position = [](const FieldError& a, const FieldError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  };
  std::stable_sort(out->errors.begin(), out->errors.end(), by_position);
  std::stable_sort(out->warnings.begin(), out->warnings.end(), by_position);
}

template <typename M>
void WarnStatusIgnored(Parsed<M>* out) {
  if (out->object.has_status()) {
    out->warnings.push_back(
        FieldError{"status", "ignored on submission (the controller writes status)"});
  }
}

const std::vector<std::string>& Kinds() {
  static const std::vector<std::string> k = {"TestRun", "TestSuite", "AgentPool", "SutTemplate"};
  return k;
}

std::vector<FieldError> ValidateRunForParse(const v1::TestRun& run, std::vector<FieldError>* w) {
  return ValidateTestRun(run, w);
}

void ParseNode(const YAML::Node& root, Document* doc) {
  bool present = false, scalar = false;
  if (root.IsMap()) doc->kind = TopLevelScalar(root, "kind", &present, &scalar);
  auto take = [&](auto&& parsed) {
    doc->errors = std::move(parsed.errors);
    doc->warnings = std::move(parsed.warnings);
    doc->object = std::move(parsed.object);
  };
  if (doc->kind == "TestRun") {
    Parsed<v1::TestRun> p;
    DecodeAndValidate<v1::TestRun>(root, "TestRun", ValidateRunForParse, &p);
    WarnStatusIgnored(&p);
    take(p);
  } else if (doc->kind == "TestSuite") {
    Parsed<v1::TestSuite> p;
    DecodeAndValidate<v1::TestSuite>(root, "TestSuite", ValidateTestSuite, &p);
    WarnStatusIgnored(&p);
    take(p);
  } else if (doc->kind == "AgentPool") {
    Parsed<v1::AgentPool> p;
    DecodeAndValidate<v1::AgentPool>(root, "AgentPool", ValidateAgentPool, &p);
    take(p);
  } else if (doc->kind == "SutTemplate") {
    Parsed<v1::SutTemplate> p;
    DecodeAndValidate<v1::SutTemplate>(root, "SutTemplate", ValidateSutTemplate, &p);
    take(p);
  } else {
    if (!root.IsMap()) {
      doc->errors.push_back(FieldError{"", "expected a mapping with apiVersion, kind, metadata and spec"});
      return;
    }
    bool api_present = false, api_scalar = false;
    const std::string api = TopLevelScalar(root, "apiVersion", &api_present, &api_scalar);
    if (!api_present) {
      doc->errors.push_back(FieldError{"apiVersion", absl::StrCat("required (", kApiVersion, ")")});
    } else if (api != kApiVersion) {
      doc->errors.push_back(FieldError{"apiVersion", absl::StrCat("expected ", kApiVersion, ", got ",
                                                                  api_scalar ? Quote(api) : "a non-string")});
    }
    const std::string known = absl::StrJoin(Kinds(), ", ");
    if (!present) {
      doc->errors.push_back(FieldError{"kind", absl::StrCat("required (one of ", known, ")")});
    } else if (!scalar) {
      doc->errors.push_back(FieldError{"kind", "expected a string"});
    } else {
      const std::string s = DidYouMean(doc->kind, Kinds());
      doc->errors.push_back(FieldError{
          "kind", absl::StrCat("unknown kind ", Quote(doc->kind),
                               s.empty() ? "" : absl::StrCat(" (did you mean ", s, "?)"),
                               "; known: ", known)});
    }
  }
}

// One document of the expected kind.
template <typename M>
Parsed<M> ParseKind(absl::string_view text, absl::string_view kind) {
  Parsed<M> out;
  Loaded loaded = Load(text);
  if (!loaded.errors.empty()) {
    out.errors = std::move(loaded.errors);
    return out;
  }
  if (loaded.docs.empty()) {
    out.errors.push_back(FieldError{"", absl::StrCat("empty input: expected a ", kind)});
    return out;
  }
  if (loaded.docs.size() > 1) {
    out.errors.push_back(FieldError{"", absl::StrCat("expected one ", kind, " document, got ",
                                                     loaded.docs.size(), " (--- separated)")});
    return out;
  }
  Document doc;
  const YAML::Node& root = loaded.docs[0];
  bool present = false, scalar = false;
  const std::string written = root.IsMap() ? TopLevelScalar(root, "kind", &present, &scalar) : "";
  if (present && written != kind) {
    if (std::find(Kinds().begin(), Kinds().end(), written) != Kinds().end()) {
      // A different known kind: its fields would only produce noise.
      out.errors.push_back(FieldError{"kind", absl::StrCat("expected ", kind, ", got ", Quote(written))});
      return out;
    }
  }
  // Decode as the expected kind even if kind is missing or misspelled (the error says so).
  if constexpr (std::is_same_v<M, v1::TestRun>) {
    DecodeAndValidate<M>(root, kind, ValidateRunForParse, &out);
  } else if constexpr (std::is_same_v<M, v1::TestSuite>) {
    DecodeAndValidate<M>(root, kind, ValidateTestSuite, &out);
  } else if constexpr (std::is_same_v<M, v1::AgentPool>) {
    DecodeAndValidate<M>(root, kind, ValidateAgentPool, &out);
  } else {
    DecodeAndValidate<M>(root, kind, ValidateSutTemplate, &out);
  }
  if constexpr (std::is_same_v<M, v1::TestRun> || std::is_same_v<M, v1::TestSuite>) {
    WarnStatusIgnored(&out);
  }
  return out;
}

}  // namespace

ParseResult ParseTestRun(absl::string_view yaml_or_json) {
  return ParseKind<v1::TestRun>(yaml_or_json, "TestRun");
}
Parsed<v1::TestSuite> ParseTestSuite(absl::string_view yaml_or_json) {
  return ParseKind<v1::TestSuite>(yaml_or_json, "TestSuite");
}
Parsed<v1::AgentPool> ParseAgentPool(absl::string_view yaml_or_json) {
  return ParseKind<v1::AgentPool>(yaml_or_json, "AgentPool");
}
Parsed<v1::SutTemplate> ParseSutTemplate(absl::string_view yaml_or_json) {
  return ParseKind<v1::SutTemplate>(yaml_or_json, "SutTemplate");
}

std::vector<Document> ParseDocuments(absl::string_view yaml_or_json) {
  std::vector<Document> out;
  Loaded loaded = Load(yaml_or_json);
  if (!loaded.errors.empty()) {
    Document d;
    d.errors = std::move(loaded.errors);
    out.push_back(std::move(d));
    return out;
  }
  for (size_t i = 0; i < loaded.docs.size(); ++i) {
    Document d;
    d.index = i;
    try {
      ParseNode(loaded.docs[i], &d);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      d.errors.push_back(FieldError{"", absl::StrCat("malformed document: ", e.what())});
    }
    out.push_back(std::move(d));
  }
  return out;
}

Document ParseDocument(absl::string_view yaml_or_json) {
  std::vector<Document> docs = ParseDocuments(yaml_or_json);
  if (docs.size() == 1) return std::move(docs[0]);
  Document d;
  d.errors.push_back(docs.empty()
                         ? FieldError{"", "empty input: expected a document"}
                         : FieldError{"", absl::StrCat("expected one document, got ", docs.size(),
                                                       " (--- separated)")});
  return d;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "";
  return out;
}

}  // namespace netrig::spec
