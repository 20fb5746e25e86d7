# netrig_add_proto_library(NAME name ALIAS ns::name PROTOS a.proto b.proto)
# Generated protobuf + gRPC code of a folder's .proto files, compiled once in one static library.
# Imports resolve relative to the calling folder; generated headers land in its binary folder.
function(netrig_add_proto_library)
  cmake_parse_arguments(P "" "NAME;ALIAS" "PROTOS" ${ARGN})
  add_library(${P_NAME} STATIC ${P_PROTOS})
  add_library(${P_ALIAS} ALIAS ${P_NAME})
  target_link_libraries(${P_NAME} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  target_include_directories(${P_NAME} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
  protobuf_generate(TARGET ${P_NAME} LANGUAGE cpp
    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR}
    PROTOC_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
  protobuf_generate(TARGET ${P_NAME} LANGUAGE grpc
    GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
    PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR}
    PROTOC_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
