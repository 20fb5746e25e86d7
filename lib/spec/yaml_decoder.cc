#include "lib/spec/yaml_decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace netrig::spec {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// Quoted text for messages; long values are cut so one bad value cannot flood the output.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

const char* KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      break;
  }
  return "a value";
}

std::string Got(const YAML::Node& node) {
  return node.IsScalar() ? Quote(node.Scalar()) : KindOf(node);
}

std::string JsonNames(const Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->json_name());
  return absl::StrJoin(names, ", ");
}

void AddPlaceholder(Message* msg, const FieldDescriptor* f);

class Decoder {
 public:
  explicit Decoder(const DecodeOptions& options) : options_(options) {}

  std::vector<FieldError> Take() { return std::move(errors_); }

  void Error(const std::string& path, std::string message, const YAML::Node* at = nullptr) {
    if (stopped_) return;
    FieldError e{path, std::move(message)};
    if (at != nullptr) SetPosition(*at, &e.line, &e.column);
    if (errors_.size() + 1 >= options_.max_errors) {
      errors_.push_back(std::move(e));
      errors_.push_back(FieldError{"", absl::StrCat("too many errors; stopped after ",
                                                    errors_.size())});
      stopped_ = true;
      return;
    }
    errors_.push_back(std::move(e));
  }

  // Counts a visited node; false (and an error, once) when over the work limit.
  bool Visit(const std::string& root) {
    if (stopped_) return false;
    if (++nodes_ > options_.max_nodes) {
      errors_.push_back(FieldError{root, absl::StrCat("document too large: more than ",
                                                      options_.max_nodes,
                                                      " values (check YAML aliases)")});
      stopped_ = true;
      return false;
    }
    return true;
  }

  void Record(const std::string& path, const YAML::Node& node) {
    if (options_.positions == nullptr) return;
    SourcePosition p;
    SetPosition(node, &p.line, &p.column);
    if (p.line > 0) options_.positions->emplace(path, p);
  }

  void FillMessage(const std::string& path, const YAML::Node& node, Message* msg);

 private:
  static void SetPosition(const YAML::Node& node, int* line, int* column) {
    const YAML::Mark m = node.Mark();
    if (m.line >= 0 && m.column >= 0) {
      *line = m.line + 1;
      *column = m.column + 1;
    }
  }

  const FieldDescriptor* FindField(const Descriptor* d, const std::string& key) const {
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->json_name() == key || (options_.accept_proto_names && f->name() == key)) return f;
    }
    return nullptr;
  }

  void UnknownField(const std::string& path, const std::string& key, const Descriptor* d,
                    const YAML::Node& key_node) {
    std::vector<std::string> names;
    for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->json_name());
    const std::string suggestion = DidYouMean(key, names);
    if (!suggestion.empty()) {
      Error(path, absl::StrCat("unknown field (did you mean ", suggestion, "?)"), &key_node);
    } else if (names.empty()) {
      Error(path, "unknown field (this object has no fields yet)", &key_node);
    } else {
      Error(path, absl::StrCat("unknown field (known fields: ", JsonNames(d), ")"), &key_node);
    }
  }

  void FillField(const std::string& path, const YAML::Node& value, Message* msg,
                 const FieldDescriptor* f);
  void FillMap(const std::string& path, const YAML::Node& value, Message* msg,
               const FieldDescriptor* f);
  // Sets (or adds, for repeated fields) one scalar value. False on error (already reported).
  bool SetScalar(const std::string& path, const YAML::Node& node, Message* msg,
                 const FieldDescriptor* f);

  const DecodeOptions& options_;
  std::vector<FieldError> errors_;
  size_t nodes_ = 0;
  bool stopped_ = false;
};

void Decoder::FillMessage(const std::string& path, const YAML::Node& node, Message* msg) {
  if (!Visit(path)) return;
  Record(path, node);
  if (node.IsNull()) return;
  if (node.IsScalar()) {
    if (options_.scalar_shorthand &&
        options_.scalar_shorthand(node, msg, path, &errors_)) {
      return;
    }
    Error(path, absl::StrCat("expected a mapping, got ", Got(node)), &node);
    return;
  }
  if (!node.IsMap()) {
    Error(path, absl::StrCat("expected a mapping, got ", KindOf(node)), &node);
    return;
  }
  const Descriptor* d = msg->GetDescriptor();
  std::set<std::string> seen;
  std::map<const OneofDescriptor*, std::string> oneof_set;  // oneof -> key that set it
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (stopped_) return;
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      Error(path, absl::StrCat("mapping keys must be field names, got ", KindOf(key_node)),
            &key_node);
      continue;
    }
    const std::string key = key_node.Scalar();
    const std::string fpath = JoinPath(path, key);
    if (!seen.insert(key).second) {
      Error(fpath, "duplicate key", &key_node);
      continue;
    }
    const FieldDescriptor* f = FindField(d, key);
    if (f == nullptr) {
      UnknownField(fpath, key, d, key_node);
      continue;
    }
    if (const OneofDescriptor* o = f->real_containing_oneof(); o != nullptr && !value.IsNull()) {
      auto [pos, inserted] = oneof_set.emplace(o, key);
      if (!inserted) {
        Error(fpath, absl::StrCat("cannot be set together with ", pos->second,
                                  " (only one of them)"),
              &key_node);
        continue;
      }
    }
    FillField(fpath, value, msg, f);
  }
}

void Decoder::FillField(const std::string& path, const YAML::Node& value, Message* msg,
                        const FieldDescriptor* f) {
  if (f->is_map()) {
    FillMap(path, value, msg, f);
    return;
  }
  const Reflection* r = msg->GetReflection();
  if (f->is_repeated()) {
    if (!Visit(path)) return;
    Record(path, value);
    if (value.IsNull()) return;
    if (!value.IsSequence()) {
      Error(path, absl::StrCat("expected a list, got ", Got(value)), &value);
      return;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (stopped_) return;
      const std::string ipath = IndexPath(path, i);
      const YAML::Node item = value[i];
      // A bad item still takes its slot (an empty message or a zero value), so that the
      // validators' paths of the items after it keep the indexes the user wrote. Validation
      // errors at a path the decoder already reported are dropped by the callers.
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Message* added = r->AddMessage(msg, f);
        if (item.IsNull()) {
          Error(ipath, "expected a mapping, got null", &item);
          continue;
        }
        FillMessage(ipath, item, added);
      } else {
        if (!Visit(ipath)) return;
        Record(ipath, item);
        if (!SetScalar(ipath, item, msg, f)) AddPlaceholder(msg, f);
      }
    }
    return;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (value.IsNull()) {
      Record(path, value);
      return;
    }
    FillMessage(path, value, r->MutableMessage(msg, f));
    return;
  }
  if (!Visit(path)) return;
  Record(path, value);
  if (value.IsNull()) return;
  SetScalar(path, value, msg, f);
}

void Decoder::FillMap(const std::string& path, const YAML::Node& value, Message* msg,
                      const FieldDescriptor* f) {
  if (!Visit(path)) return;
  Record(path, value);
  if (value.IsNull()) return;
  if (!value.IsMap()) {
    Error(path, absl::StrCat("expected a mapping, got ", Got(value)), &value);
    return;
  }
  const Reflection* r = msg->GetReflection();
  const Descriptor* entry_type = f->message_type();
  const FieldDescriptor* key_field = entry_type->map_key();
  const FieldDescriptor* value_field = entry_type->map_value();
  std::set<std::string> seen;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (stopped_) return;
    const YAML::Node key_node = it->first;
    const YAML::Node item = it->second;
    if (!key_node.IsScalar()) {
      Error(path, absl::StrCat("mapping keys must be strings, got ", KindOf(key_node)),
            &key_node);
      continue;
    }
    const std::string key = key_node.Scalar();
    const std::string kpath = MapKeyPath(path, key);
    if (!seen.insert(key).second) {
      Error(kpath, "duplicate key", &key_node);
      continue;
    }
    if (!Visit(kpath)) return;
    Record(kpath, item);
    // Build the entry aside and add it only when both halves are valid.
    std::unique_ptr<Message> entry(r->GetMessageFactory()->GetPrototype(entry_type)->New());
    if (!SetScalar(kpath, key_node, entry.get(), key_field)) continue;
    if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const size_t before = errors_.size();
      FillMessage(kpath, item, entry->GetReflection()->MutableMessage(entry.get(), value_field));
      if (errors_.size() != before) continue;
    } else {
      if (item.IsNull()) {
        Error(kpath, "expected a value, got null", &item);
        continue;
      }
      if (!SetScalar(kpath, item, entry.get(), value_field)) continue;
    }
    r->AddMessage(msg, f)->CopyFrom(*entry);
  }
}

template <typename T>
bool ParseInteger(const std::string& text, T* out) {
  // Only plain decimal digits with an optional sign: absl accepts "+5" and leading blanks,
  // YAML users do not write those.
  if (text.empty()) return false;
  const size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (start == text.size()) return false;
  for (size_t i = start; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return absl::SimpleAtoi(text, out);
}

// Proto3 strings must be UTF-8 (serialization would fail later, far from the input).
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values above U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool Decoder::SetScalar(const std::string& path, const YAML::Node& node, Message* msg,
                        const FieldDescriptor* f) {
  if (!node.IsScalar()) {
    const char* what = "a value";
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
      case FieldDescriptor::CPPTYPE_ENUM:
        what = "a string";
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        what = "true or false";
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        what = "a number";
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        what = "a non-negative integer";
        break;
      default:
        what = "an integer";
        break;
    }
    Error(path, absl::StrCat("expected ", what, ", got ", KindOf(node)), &node);
    return false;
  }
  const std::string& text = node.Scalar();
  const Reflection* r = msg->GetReflection();
  const bool rep = f->is_repeated();
  auto bad = [&](absl::string_view what, absl::string_view hint = "") {
    Error(path, absl::StrCat("expected ", what, ", got ", Quote(text), hint), &node);
    return false;
  };
  // Integers: parse wide, then range-check, so "out of range" differs from "not a number".
  auto integer = [&](int64_t lo, uint64_t hi, auto set) {
    int64_t s = 0;
    uint64_t u = 0;
    if (ParseInteger(text, &u)) {
      if (u > hi) {
        Error(path, absl::StrCat(text, " is out of range (maximum ", hi, ")"), &node);
        return false;
      }
      set(u, 0, false);
      return true;
    }
    if (ParseInteger(text, &s)) {  // negative
      if (s < lo) {
        Error(path,
              lo == 0 ? absl::StrCat("expected a non-negative integer, got ", text)
                      : absl::StrCat(text, " is out of range (minimum ", lo, ")"),
              &node);
        return false;
      }
      set(0, s, true);
      return true;
    }
    const bool digits_only =
        !text.empty() && std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                                     [](char c) { return absl::ascii_isdigit(c); });
    if (digits_only && text != "-") {
      Error(path, absl::StrCat(text, " is out of range"), &node);
      return false;
    }
    return bad(lo == 0 ? "a non-negative integer" : "an integer");
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (!IsValidUtf8(text)) {
        Error(path, "is not valid UTF-8 text", &node);
        return false;
      }
      rep ? r->AddString(msg, f, text) : r->SetString(msg, f, text);
      return true;
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower != "true" && lower != "false") return bad("true or false");
      rep ? r->AddBool(msg, f, lower == "true") : r->SetBool(msg, f, lower == "true");
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT32:
      return integer(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                     [&](uint64_t u, int64_t s, bool neg) {
                       const auto v = static_cast<int32_t>(neg ? s : static_cast<int64_t>(u));
                       rep ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
                     });
    case FieldDescriptor::CPPTYPE_INT64:
      return integer(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                     [&](uint64_t u, int64_t s, bool neg) {
                       const auto v = neg ? s : static_cast<int64_t>(u);
                       rep ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
                     });
    case FieldDescriptor::CPPTYPE_UINT32:
      return integer(0, std::numeric_limits<uint32_t>::max(), [&](uint64_t u, int64_t, bool) {
        const auto v = static_cast<uint32_t>(u);
        rep ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
      });
    case FieldDescriptor::CPPTYPE_UINT64:
      return integer(0, std::numeric_limits<uint64_t>::max(), [&](uint64_t u, int64_t, bool) {
        rep ? r->AddUInt64(msg, f, u) : r->SetUInt64(msg, f, u);
      });
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v = 0;
      const bool has_letters = std::any_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isalpha(c) && c != 'e' && c != 'E';
      });
      if (has_letters || !absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
        if (!text.empty() && text.back() == '%') {
          return bad("a number", " (write percentages as plain numbers, without %)");
        }
        return bad("a number");
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        rep ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
      } else {
        if (std::fabs(v) > std::numeric_limits<float>::max()) {
          Error(path, absl::StrCat(text, " is out of range"), &node);
          return false;
        }
        rep ? r->AddFloat(msg, f, static_cast<float>(v)) : r->SetFloat(msg, f, static_cast<float>(v));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      // Full value name (RATE_UNIT_PPS) or its suffix after the enum prefix, any case (pps).
      const auto* e = f->enum_type();
      const std::string upper = absl::AsciiStrToUpper(text);
      const EnumValueDescriptor* value = e->FindValueByName(upper);
      std::vector<std::string> names;
      for (int i = 0; i < e->value_count(); ++i) {
        const std::string& n = e->value(i)->name();
        names.push_back(n);
        if (value == nullptr && n.size() > upper.size() + 1 &&
            n.compare(n.size() - upper.size(), upper.size(), upper) == 0 &&
            n[n.size() - upper.size() - 1] == '_') {
          value = e->value(i);
        }
      }
      if (value == nullptr) {
        Error(path, absl::StrCat("unknown value ", Quote(text), " (known: ",
                                 absl::StrJoin(names, ", "), ")"),
              &node);
        return false;
      }
      rep ? r->AddEnum(msg, f, value) : r->SetEnum(msg, f, value);
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  Error(path, "unsupported field type", &node);
  return false;
}

// Case-insensitive optimal-string-alignment distance: insertions, deletions, substitutions and
// transpositions of adjacent characters ("esat" -> "east") cost 1.
void AddPlaceholder(Message* msg, const FieldDescriptor* f) {
  const Reflection* r = msg->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      r->AddString(msg, f, "");
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      r->AddBool(msg, f, false);
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      r->AddInt32(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->AddInt64(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      r->AddUInt32(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      r->AddUInt64(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->AddDouble(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      r->AddFloat(msg, f, 0);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      r->AddEnum(msg, f, f->enum_type()->value(0));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      r->AddMessage(msg, f);
      break;
  }
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  auto lower = [](char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); };
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool IsPlainKey(absl::string_view key) {
  if (key.empty() || !absl::ascii_isalnum(static_cast<unsigned char>(key[0]))) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

std::string JoinPath(absl::string_view parent, absl::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(parent, ".", key);
}

std::string IndexPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

std::string MapKeyPath(absl::string_view parent, absl::string_view key) {
  if (IsPlainKey(key)) return JoinPath(parent, key);
  return absl::StrCat(parent, "[", Quote(key), "]");
}

std::string DidYouMean(absl::string_view word, const std::vector<std::string>& candidates) {
  if (word.empty() || word.size() > 64) return "";
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Close enough: a third of the word (at least 1, at most 3 edits), and not identical.
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  if (best_distance == 0 && best != word) return best;  // case differs only
  if (best_distance == 0 || best_distance > limit) return "";
  return best;
}

std::vector<FieldError> YamlToMessage(const YAML::Node& node, google::protobuf::Message* message,
                                      const std::string& path_prefix,
                                      const DecodeOptions& options) {
  Decoder decoder(options);
  try {
    decoder.FillMessage(path_prefix, node, message);
  } catch (const std::bad_alloc&) {
    throw;  // STYLE 12.5: out of memory is fatal
  } catch (const YAML::Exception& e) {
    decoder.Error(path_prefix, absl::StrCat("malformed document: ", e.msg));
  } catch (const std::exception& e) {
    decoder.Error(path_prefix, absl::StrCat("malformed document: ", e.what()));
  }
  return decoder.Take();
}

}  // namespace netrig::spec
