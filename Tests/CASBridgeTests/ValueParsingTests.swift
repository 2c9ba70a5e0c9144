import CASBridge
import Testing

@Suite("Flag values")
struct ValueParsingTests {
    @Test("sizes, durations and switches in every accepted spelling")
    func accepted() {
        #expect(ValueParsing.size("10GiB") == 10 << 30)
        #expect(ValueParsing.size(" 500m ") == 500 << 20)
        #expect(ValueParsing.size("2kb") == 2000)
        #expect(ValueParsing.size("1024") == 1024)
        #expect(ValueParsing.duration("90s") == .seconds(90))
        #expect(ValueParsing.duration("250ms") == .milliseconds(250))
        #expect(ValueParsing.duration("7d") == .seconds(604_800))
        #expect(ValueParsing.duration("1.5") == .milliseconds(1500))
        #expect(ValueParsing.toggle("On") == true)
        #expect(ValueParsing.toggle("no") == false)
    }

    /// fuzz/corpus/flags/crash-9deaf28b4e83e87086094a8eb1685ef60e20ede7: a duration of 333333333333333
    /// seconds trapped converting its nanoseconds to Int64; so did any size or duration past Int64.max.
    @Test("a duration past Int64.max nanoseconds is refused, not a trap")
    func durationPastInt64() {
        #expect(ValueParsing.duration("333333333333333") == nil)
        #expect(ValueParsing.size("333333333333333") == 333_333_333_333_333, "as a size it fits")
    }

    @Test(
        "values past Int64.max, infinities and nan are refused, not a trap",
        arguments: ["1e300GiB", "1e300", "inf", "infs", "nan", "9223372036854775808b", "1e10w", "-5s"])
    func outOfRange(_ text: String) {
        #expect(ValueParsing.size(text) == nil)
        #expect(ValueParsing.duration(text) == nil)
    }

    @Test("the largest values that fit are accepted")
    func largest() {
        #expect(ValueParsing.size("9223372036854775807") == Int64.max)
        #expect(ValueParsing.size("7EiB") == nil, "no exbibyte unit")
        #expect(ValueParsing.duration("292y") == nil, "no year unit")
        #expect(ValueParsing.duration("15000w") == .seconds(9_072_000_000))
    }
}
