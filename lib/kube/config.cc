// Where a Client's Config comes from: the pod's service account or a kubeconfig file.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/common/status_macros.h"
#include "lib/kube/client.h"

namespace netrig::kube {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One named entry of a kubeconfig list ("clusters", "users", "contexts"), its inner map
// ("cluster", "user", "context").
absl::StatusOr<YAML::Node> FindNamed(const YAML::Node& root, const std::string& list,
                                     const std::string& inner, const std::string& name) {
  const YAML::Node entries = root[list];
  if (entries && !entries.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(list, ": must be a list"));
  }
  if (entries) {
    for (const YAML::Node& entry : entries) {
      if (entry["name"] && entry["name"].as<std::string>() == name) {
        YAML::Node body = entry[inner];
        if (!body || !body.IsMap()) {
          return absl::InvalidArgumentError(
              absl::StrCat(list, "[name=", name, "].", inner, ": missing or not a map"));
        }
        return body;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat(list, ": no entry named \"", name, "\""));
}

std::string StringAt(const YAML::Node& map, const std::string& key) {
  const YAML::Node v = map[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

std::string Resolve(const std::filesystem::path& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) {
    return path;
  }
  return (base_dir / path).string();
}

// `<key>-data` (base64) or `<key>` (a file, relative to the kubeconfig's directory), as text.
// `where` names the entry for messages ("users[name=admin]").
absl::StatusOr<std::string> DataOrFile(const YAML::Node& map, const std::string& key,
                                       const std::filesystem::path& base_dir,
                                       const std::string& where) {
  const std::string data = StringAt(map, key + "-data");
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, "-data: not valid base64"));
    }
    return decoded;
  }
  const std::string file = StringAt(map, key);
  if (file.empty()) {
    return std::string();
  }
  auto text = ReadWholeFile(Resolve(base_dir, file));
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": ", text.status().message()));
  }
  return *text;
}

absl::StatusOr<Config> ParseKubeconfig(const YAML::Node& root, const std::string& path,
                                       const std::string& context_name) {
  if (!root.IsMap()) {
    return absl::InvalidArgumentError("not a kubeconfig (the document is not a map)");
  }
  const std::filesystem::path base_dir = std::filesystem::path(path).parent_path();
  std::string ctx_name = context_name;
  if (ctx_name.empty()) {
    ctx_name = StringAt(root, "current-context");
    if (ctx_name.empty()) {
      return absl::FailedPreconditionError("current-context: not set and no context given");
    }
  }
  ASSIGN_OR_RETURN(YAML::Node ctx, FindNamed(root, "contexts", "context", ctx_name));
  const std::string cluster_name = StringAt(ctx, "cluster");
  const std::string user_name = StringAt(ctx, "user");
  const std::string ctx_where = absl::StrCat("contexts[name=", ctx_name, "]");
  if (cluster_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx_where, ".context.cluster: missing"));
  }

  Config config;
  config.source = path;
  if (const std::string ns = StringAt(ctx, "namespace"); !ns.empty()) {
    config.default_namespace = ns;
  }

  ASSIGN_OR_RETURN(YAML::Node cluster, FindNamed(root, "clusters", "cluster", cluster_name));
  const std::string cluster_where = absl::StrCat("clusters[name=", cluster_name, "].cluster");
  config.server = StringAt(cluster, "server");
  if (config.server.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(cluster_where, ".server: missing"));
  }
  config.server = std::string(absl::StripSuffix(config.server, "/"));
  if (cluster["insecure-skip-tls-verify"]) {
    config.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>();
  }
  ASSIGN_OR_RETURN(config.ca_pem,
                   DataOrFile(cluster, "certificate-authority", base_dir, cluster_where));

  if (user_name.empty()) {
    return config;  // anonymous
  }
  ASSIGN_OR_RETURN(YAML::Node user, FindNamed(root, "users", "user", user_name));
  const std::string user_where = absl::StrCat("users[name=", user_name, "].user");
  if (user["exec"] || user["auth-provider"]) {
    return absl::UnimplementedError(
        absl::StrCat(user_where,
                     ": exec and auth-provider credentials are not supported; use token, "
                     "tokenFile or a client certificate"));
  }
  config.token = StringAt(user, "token");
  if (const std::string token_file = StringAt(user, "tokenFile"); !token_file.empty()) {
    config.token_file = Resolve(base_dir, token_file);
    auto token = ReadWholeFile(config.token_file);
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(user_where, ".tokenFile: ", token.status().message()));
    }
    if (config.token.empty()) {
      config.token = std::string(absl::StripTrailingAsciiWhitespace(*token));
    } else {
      config.token_file.clear();  // kubectl: an inline token wins over tokenFile
    }
  }
  ASSIGN_OR_RETURN(config.client_cert_pem,
                   DataOrFile(user, "client-certificate", base_dir, user_where));
  ASSIGN_OR_RETURN(config.client_key_pem, DataOrFile(user, "client-key", base_dir, user_where));
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(user_where, ": client-certificate and client-key must be given together"));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> InClusterConfig(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return absl::FailedPreconditionError(
        "in-cluster config: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set (not in a "
        "pod)");
  }
  Config config;
  config.source = "in-cluster";
  const std::string h = host;
  config.server = h.find(':') != std::string::npos ? absl::StrCat("https://[", h, "]:", port)
                                                   : absl::StrCat("https://", h, ":", port);
  config.token_file = root + "/token";
  auto token = ReadWholeFile(config.token_file);
  if (!token.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster config: service account token: ", token.status().message()));
  }
  config.token = std::string(absl::StripTrailingAsciiWhitespace(*token));
  auto ca = ReadWholeFile(root + "/ca.crt");
  if (!ca.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster config: service account CA: ", ca.status().message()));
  }
  config.ca_pem = *ca;
  if (auto ns = ReadWholeFile(root + "/namespace"); ns.ok()) {
    const std::string trimmed(absl::StripAsciiWhitespace(*ns));
    if (!trimmed.empty()) {
      config.default_namespace = trimmed;
    }
  }
  return config;
}

absl::StatusOr<Config> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("kubeconfig ", path, ": ", text.status().message()));
  }
  absl::StatusOr<Config> config;
  try {
    config = ParseKubeconfig(YAML::Load(*text), path, context);
  } catch (const YAML::Exception& e) {
    config = absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat("kubeconfig ", path, ": ", config.status().message()));
  }
  return config;
}

absl::StatusOr<Config> DefaultConfig(const std::string& kubeconfig, const std::string& context) {
  if (!kubeconfig.empty()) {
    return LoadKubeconfig(kubeconfig, context);
  }
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    const std::vector<std::string> files = absl::StrSplit(env, ':', absl::SkipEmpty());
    if (!files.empty()) {
      return LoadKubeconfig(files.front(), context);
    }
  }
  auto in_cluster = InClusterConfig();
  if (in_cluster.ok() || !absl::IsFailedPrecondition(in_cluster.status())) {
    return in_cluster;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    const std::string path = absl::StrCat(home, "/.kube/config");
    if (std::filesystem::exists(path)) {
      return LoadKubeconfig(path, context);
    }
  }
  return absl::FailedPreconditionError(
      "no Kubernetes configuration: no --kubeconfig, no $KUBECONFIG, not in a pod "
      "(KUBERNETES_SERVICE_HOST unset) and no ~/.kube/config");
}

}  // namespace netrig::kube
