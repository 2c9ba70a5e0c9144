#!/usr/bin/env bash
# Regenerates the Swift code of the REAPI subset in Protos/ into
# Sources/CASBridgeREAPI/Generated (clients, and the server protocols the tests' in-process
# server implements). Never run in CI: the generated code is committed.
#
# Needs protoc (Debian: protobuf-compiler) and the two plugins, built once outside the
# repository from the same package versions as Package.swift uses:
#
#   git clone /opt/swift-packages/grpc/grpc-swift-protobuf.git /tmp/gsp   # or https://github.com/grpc/grpc-swift-protobuf
#   git -C /tmp/gsp checkout 2.4.1
#   (cd /tmp/gsp && swift build -c release --product protoc-gen-grpc-swift-2 \
#                && swift build -c release --product protoc-gen-swift)      # swift-protobuf 1.39.0 resolved there
#   PLUGIN_DIR=/tmp/gsp/.build/release scripts/generate-protos.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
plugin_dir="${PLUGIN_DIR:?set PLUGIN_DIR to the directory holding protoc-gen-swift and protoc-gen-grpc-swift-2}"
out="$root/Sources/CASBridgeREAPI/Generated"
protos=(
    google/rpc/status.proto
    google/bytestream/bytestream.proto
    build/bazel/remote/execution/v2/remote_execution.proto
)

rm -rf "$out"
mkdir -p "$out"
cd "$root/Protos"
protoc \
    --plugin=protoc-gen-swift="$plugin_dir/protoc-gen-swift" \
    --swift_out="$out" \
    --swift_opt=Visibility=Internal \
    --swift_opt=FileNaming=PathToUnderscores \
    --swift_opt=UseAccessLevelOnImports=true \
    "${protos[@]}"
protoc \
    --plugin=protoc-gen-grpc-swift-2="$plugin_dir/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out="$out" \
    --grpc-swift-2_opt=Visibility=Internal \
    --grpc-swift-2_opt=FileNaming=PathToUnderscores \
    --grpc-swift-2_opt=Server=true \
    --grpc-swift-2_opt=Client=true \
    --grpc-swift-2_opt=UseAccessLevelOnImports=true \
    google/bytestream/bytestream.proto \
    build/bazel/remote/execution/v2/remote_execution.proto
echo "generated into $out:"
ls "$out"
