/// A failure that is not a usage error (a store that cannot be opened, a directory without a
/// go.mod): the argument parser prints it as `Error: …` without the usage text, which only a
/// `ValidationError` earns.
struct CommandError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
