import CASBridge
import CASBridgeHTTP
import CASBridgeS3
import Glibc
import GoModSandbox

// Opens a local store in the directory given and prints its entry count; names a type of each
// library so that every import is used.
let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    print("usage: UsesCASBridge STORE-DIRECTORY")
    exit(2)
}
let store = try LocalStore(directory: arguments[1])
let backends: [any CacheStore.Type] = [HTTPCacheStore.self, S3Store.self]
print("entries: \(store.entryCount), backends: \(backends.count), tree entry: \(TreeEntry.self)")
