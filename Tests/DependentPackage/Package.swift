// swift-tools-version:6.1
import PackageDescription

// A package that depends on CASBridge as a user's package does: by URL and version. SwiftPM
// refuses such a dependency if a library product it uses carries `unsafeFlags` (it accepts them
// from path, branch and revision dependencies, so those would prove nothing). scripts/test.sh
// tags the working tree in a scratch repository and passes its URL and version; without them
// (an editor opening this package) the checkout it lives in is used by path.
let environment = Context.environment
let casbridge: Package.Dependency
if let url = environment["CASBRIDGE_DEPENDENT_URL"],
    let version = environment["CASBRIDGE_DEPENDENT_VERSION"].flatMap({ Version($0) })
{
    casbridge = .package(url: url, exact: version)
} else {
    casbridge = .package(name: "CASBridge", path: "../..")
}

let package = Package(
    name: "DependentPackage",
    dependencies: [casbridge],
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
