/// The libFuzzer entry point: runs the target that `CASBRIDGE_FUZZ_TARGET` names (fuzz/run.sh
/// sets it) on one input. One archive holds every target, so one build serves them all.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
