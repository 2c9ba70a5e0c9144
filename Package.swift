// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CASBridge",
    products: [
        .executable(name: "cacheprog", targets: ["cacheprog"]),
        .library(name: "CASBridge", targets: ["CASBridge"]),
        .library(name: "CASBridgeHTTP", targets: ["CASBridgeHTTP"]),
        .library(name: "CASBridgeS3", targets: ["CASBridgeS3"]),
        .library(name: "CASBridgeREAPI", targets: ["CASBridgeREAPI"]),
        .library(name: "GoModSandbox", targets: ["GoModSandbox"]),
        // The libFuzzer entry points, as one archive that fuzz/run.sh links with the sanitizers' runtime.
        .library(name: "CASBridgeFuzz", type: .static, targets: ["CASBridgeFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        // Without the default traits: BinaryDelimitedStreams pulls in full Foundation.
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // libcurl and libxml2 are opened with dlopen on first use (see their shim.h), not linked:
        // no pkgConfig, whose link flags would load them at every start of the helper.
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // glibc's <malloc.h> (mallopt): part of libc, nothing to install or link.
        .systemLibrary(name: "CMalloc"),
        // Declares the few libxml2 types it uses itself (see its shim.h): no headers, no link.
        .systemLibrary(name: "CLibXML2"),
        // The core: store contracts, the helper protocol, the local store, the remote tier,
        // compression, hashing and metrics. Links no network or XML library.
        .target(
            name: "CASBridge",
            dependencies: [
                "COpenSSL",
                "CZstd",
                "CMalloc",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The bazel-remote HTTP backend and the HTTP client (libcurl) it and S3 share.
        .target(
            name: "CASBridgeHTTP",
            dependencies: ["CASBridge", "CCurl"],
            swiftSettings: swiftSettings
        ),
        // The S3 backend: SigV4 signing, AWS credentials, error documents (libxml2).
        .target(
            name: "CASBridgeS3",
            dependencies: ["CASBridge", "CASBridgeHTTP", "CLibXML2", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CASBridgeTestSupport",
            dependencies: ["CASBridge"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CASBridgeTests",
            dependencies: [
                "CASBridge",
                "CASBridgeFuzz",
                "CASBridgeHTTP",
                "CASBridgeS3",
                "CASBridgeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CASBridgeREAPI",
            dependencies: [
                "CASBridge",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CASBridgeREAPITests",
            dependencies: [
                "CASBridgeREAPI",
                "CASBridge",
                "CASBridgeTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            exclude: ["reapi_client.py"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GoModSandbox",
            dependencies: [
                "CASBridge",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoModSandboxTests",
            dependencies: ["GoModSandbox", "CASBridge", "CASBridgeTestSupport"],
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets over every decoder of outside input (docs/development.md, "Fuzzing"). Plain code:
        // fuzz/run.sh adds -sanitize=fuzzer,address on its command line, so no unsafeFlags here.
        .target(
            name: "CASBridgeFuzz",
            dependencies: ["CASBridge", "CASBridgeHTTP", "CASBridgeS3", "GoModSandbox"],
            path: "fuzz/Sources/CASBridgeFuzz",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cacheprog",
            dependencies: [
                "CASBridge",
                "CASBridgeHTTP",
                "CASBridgeS3",
                "CASBridgeREAPI",
                "GoModSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: [
                // The go command starts the helper for every invocation: a static Swift runtime roughly
                // halves start-up time, and no exported symbols spares the runtime's start-up `dladdr`
                // a scan of tens of thousands of them.
                .unsafeFlags([
                    "-static-stdlib", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims",
                    "-Xlinker", "--no-export-dynamic",
                ])
            ]
        ),
        .testTarget(
            name: "cacheprogTests",
            dependencies: ["CASBridge", "CASBridgeHTTP", "CASBridgeS3", "CASBridgeTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
