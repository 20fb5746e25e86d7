// Status propagation helpers (Abseil does not export these publicly).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NB_STATUS_CONCAT_INNER_(a, b) a##b
#define NB_STATUS_CONCAT_(a, b) NB_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                                 \
  do {                                                        \
    if (absl::Status nb_status_ = (expr); !nb_status_.ok()) { \
      return nb_status_;                                      \
    }                                                         \
  } while (0)

#define NB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) {                                 \
    return tmp.status();                           \
  }                                                \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, rexpr) \
  NB_ASSIGN_OR_RETURN_IMPL_(NB_STATUS_CONCAT_(nb_statusor_, __LINE__), lhs, rexpr)
