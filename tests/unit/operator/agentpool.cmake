# The AgentPool reconciler (operator/agentpool): rendered pod specs, validation, scaling, and
# reconciles against the in-memory API of the operator tests (fake_api.h). Included by the unit tests'
# CMakeLists; paths are relative to this file so it can be included from anywhere.
netrig_add_test(NAME operator_agentpool_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/agentpool_reconciler_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/agentpool_workload_test.cc
  LIBS netrig::operator_agentpool netrig_operator_fake_api GTest::gtest_main
  LABELS unit)
