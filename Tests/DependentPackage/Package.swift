// swift-tools-version:6.1
import PackageDescription

// A package that depends on CASBridge by path, as a user's package would by URL: it builds only
// if no library product it uses carries `unsafeFlags`. Built by scripts/test.sh.
let package = Package(
    name: "DependentPackage",
    dependencies: [
        .package(name: "CASBridge", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "UsesCASBridge",
            dependencies: [
                .product(name: "CASBridge", package: "CASBridge"),
                .product(name: "CASBridgeHTTP", package: "CASBridge"),
                .product(name: "CASBridgeS3", package: "CASBridge"),
                .product(name: "GoModSandbox", package: "CASBridge"),
            ]
        )
    ]
)
