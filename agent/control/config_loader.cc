#include "absl/strings/string_view.h"
#include "agent/control/config_loader.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/common/status_macros.h"
#include "lib/rate/line_rate.h"

namespace netrig::agent::control {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status FieldError(const std::string& path, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(path.empty() ? "<root>" : path, ": ", reason));
}

std::string Join(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string KnownFields(const Descriptor* d) {
  std::string out;
  for (int i = 0; i < d->field_count(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", d->field(i)->name());
  }
  return out;
}

absl::Status SetRateShorthand(const std::string& path, const std::string& text, Message* msg) {
  auto* rate = static_cast<v1::RateProfile*>(msg);
  if (absl::AsciiStrToLower(text) == "max") {
    rate->set_unlimited(true);
    return absl::OkStatus();
  }
  auto parsed = rate::ParseRate(text);
  if (!parsed.ok()) {
    return FieldError(path, parsed.status().message());
  }
  switch (parsed->unit) {
    case rate::RateUnit::kPps:
      rate->set_unit(v1::RATE_UNIT_PPS);
      break;
    case rate::RateUnit::kL1Bps:
      rate->set_unit(v1::RATE_UNIT_L1_BPS);
      break;
    case rate::RateUnit::kL2Bps:
      rate->set_unit(v1::RATE_UNIT_L2_BPS);
      break;
    case rate::RateUnit::kPercentLineRate:
      rate->set_unit(v1::RATE_UNIT_PERCENT_LINE);
      break;
  }
  rate->set_value(parsed->value);
  return absl::OkStatus();
}

absl::Status SetSizeShorthand(const std::string& path, const std::string& text, Message* msg) {
  auto* size = static_cast<v1::SizeProfile*>(msg);
  uint32_t fixed = 0;
  if (absl::SimpleAtoi(text, &fixed)) {
    size->set_fixed_bytes(fixed);
    return absl::OkStatus();
  }
  // min-max/step
  std::vector<std::string> range = absl::StrSplit(text, absl::MaxSplits('/', 1));
  std::vector<std::string> bounds = absl::StrSplit(range[0], absl::MaxSplits('-', 1));
  uint32_t lo = 0, hi = 0, step = 1;
  if (bounds.size() == 2 && absl::SimpleAtoi(bounds[0], &lo) && absl::SimpleAtoi(bounds[1], &hi) &&
      (range.size() == 1 || absl::SimpleAtoi(range[1], &step))) {
    size->mutable_sweep()->set_min_bytes(lo);
    size->mutable_sweep()->set_max_bytes(hi);
    size->mutable_sweep()->set_step_bytes(step);
    return absl::OkStatus();
  }
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text[0]))) {
    size->set_imix(text);
    return absl::OkStatus();
  }
  return FieldError(path, absl::StrCat("\"", text,
                                       "\" is not a frame size, a mix name or a sweep min-max/step"));
}

absl::Status SetScalar(const std::string& path, const YAML::Node& node, Message* msg,
                       const FieldDescriptor* f, bool repeated);

absl::Status FillMessage(const std::string& path, const YAML::Node& node, Message* msg);

absl::Status FillFromScalarShorthand(const std::string& path, const std::string& text,
                                     Message* msg) {
  const std::string& type = msg->GetDescriptor()->full_name();
  if (type == "netrig.v1.RateProfile") {
    return SetRateShorthand(path, text, msg);
  }
  if (type == "netrig.v1.SizeProfile") {
    return SetSizeShorthand(path, text, msg);
  }
  if (type == "netrig.v1.FieldRange") {
    static_cast<v1::FieldRange*>(msg)->set_start(text);
    return absl::OkStatus();
  }
  return FieldError(path, absl::StrCat("expected a mapping for ", msg->GetDescriptor()->name(),
                                       ", got \"", text, "\""));
}

absl::Status FillMessage(const std::string& path, const YAML::Node& node, Message* msg) {
  if (node.IsScalar()) {
    return FillFromScalarShorthand(path, node.Scalar(), msg);
  }
  if (node.IsNull()) {
    return absl::OkStatus();
  }
  if (!node.IsMap()) {
    return FieldError(path, absl::StrCat("expected a mapping for ", msg->GetDescriptor()->name()));
  }
  const Descriptor* d = msg->GetDescriptor();
  const Reflection* r = msg->GetReflection();
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr) {
      f = d->FindFieldByCamelcaseName(key);
    }
    const std::string fpath = Join(path, key);
    if (f == nullptr) {
      return FieldError(fpath, absl::StrCat("unknown field (known: ", KnownFields(d), ")"));
    }
    const YAML::Node& v = kv.second;
    if (f->is_repeated()) {
      if (!v.IsSequence()) {
        return FieldError(fpath, "expected a list");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string ipath = absl::StrCat(fpath, "[", i, "]");
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          RETURN_IF_ERROR(FillMessage(ipath, v[i], r->AddMessage(msg, f)));
        } else {
          RETURN_IF_ERROR(SetScalar(ipath, v[i], msg, f, true));
        }
      }
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      RETURN_IF_ERROR(FillMessage(fpath, v, r->MutableMessage(msg, f)));
    } else {
      RETURN_IF_ERROR(SetScalar(fpath, v, msg, f, false));
    }
  }
  return absl::OkStatus();
}

absl::Status SetScalar(const std::string& path, const YAML::Node& node, Message* msg,
                       const FieldDescriptor* f, bool repeated) {
  if (!node.IsScalar()) {
    return FieldError(path, "expected a single value");
  }
  const std::string text = node.Scalar();
  const Reflection* r = msg->GetReflection();
  auto bad = [&](absl::string_view what) {
    return FieldError(path, absl::StrCat("expected ", what, ", got \"", text, "\""));
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? r->AddString(msg, f, text) : r->SetString(msg, f, text);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool b;
      if (!absl::SimpleAtob(text, &b)) return bad("true or false");
      repeated ? r->AddBool(msg, f, b) : r->SetBool(msg, f, b);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("an integer");
      repeated ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("an integer");
      repeated ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("an unsigned integer");
      repeated ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("an unsigned integer");
      repeated ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) return bad("a number");
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
      } else {
        repeated ? r->AddFloat(msg, f, static_cast<float>(v)) : r->SetFloat(msg, f, static_cast<float>(v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      // Accept the full name (RATE_UNIT_PPS) or its suffix in any case (pps).
      const auto* e = f->enum_type();
      const std::string upper = absl::AsciiStrToUpper(text);
      const google::protobuf::EnumValueDescriptor* value = e->FindValueByName(upper);
      std::string names;
      for (int i = 0; value == nullptr && i < e->value_count(); ++i) {
        const std::string& n = e->value(i)->name();
        if (n.size() > upper.size() && n.compare(n.size() - upper.size(), upper.size(), upper) == 0 &&
            n[n.size() - upper.size() - 1] == '_') {
          value = e->value(i);
        }
      }
      if (value == nullptr) {
        for (int i = 0; i < e->value_count(); ++i) {
          absl::StrAppend(&names, i ? ", " : "", e->value(i)->name());
        }
        return FieldError(path, absl::StrCat("unknown value \"", text, "\" (known: ", names, ")"));
      }
      repeated ? r->AddEnum(msg, f, value) : r->SetEnum(msg, f, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return FieldError(path, "unsupported field type");
}

// key=value,key=value -> YAML mapping (dotted keys nest).
absl::StatusOr<YAML::Node> KeyValuesToYaml(absl::string_view text,
                                           const std::vector<std::pair<std::string, std::string>>& aliases) {
  YAML::Node root(YAML::NodeType::Map);
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", item, "\": expected key=value"));
    }
    std::string key = kv[0];
    for (const auto& [from, to] : aliases) {
      if (key == from) {
        key = to;
      }
    }
    std::vector<std::string> parts = absl::StrSplit(key, '.');
    // yaml-cpp nodes are handles: walk down creating maps.
    YAML::Node cur = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!cur[parts[i]] || !cur[parts[i]].IsMap()) {
        cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      }
      YAML::Node next = cur[parts[i]];
      cur.reset(next);
    }
    cur[parts.back()] = kv[1];
  }
  return root;
}

}  // namespace

absl::Status ParseMessageText(absl::string_view text, Message* out) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML/JSON: line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  try {
    return FillMessage("", root, out);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed document: ", e.msg));
  }
}

absl::Status LoadMessageFile(const std::string& path, Message* out) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (absl::Status s = ParseMessageText(ss.str(), out); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PortConfig> ParsePortFlag(absl::string_view text) {
  ASSIGN_OR_RETURN(YAML::Node node, KeyValuesToYaml(text, {}));
  v1::PortConfig port;
  if (absl::Status s = FillMessage("--port", node, &port); !s.ok()) {
    return s;
  }
  return port;
}

absl::StatusOr<v1::StreamConfig> ParseStreamFlag(absl::string_view text) {
  ASSIGN_OR_RETURN(YAML::Node node,
                   KeyValuesToYaml(text, {{"tx", "tx_port"}, {"rx", "rx_port"},
                                          {"src", "src_ip"}, {"dst", "dst_ip"}}));
  v1::StreamConfig stream;
  if (absl::Status s = FillMessage("--stream", node, &stream); !s.ok()) {
    return s;
  }
  return stream;
}

}  // namespace netrig::agent::control
