import Testing
@testable import Accounting

@Suite struct ClockAndDay {
    @Test func dayArithmetic() {
        #expect(UTCDay(millis: 0).description == "1970-01-01")
        #expect(UTCDay(millis: -1).description == "1969-12-31")
        #expect(UTCDay(millis: utc(2024, 2, 29, 23, 59, 59, ms: 999)).description == "2024-02-29")
        #expect(UTCDay(millis: utc(2024, 3, 1)).description == "2024-03-01")
        #expect(UTCDay("2000-02-29")?.startMillis == 951_782_400_000)
        #expect(UTCDay("2023-02-29") == nil)
        #expect(UTCDay("2023-2-01") == nil)
        #expect(UTCDay(millis: utc(2025, 12, 31, 12)).next.description == "2026-01-01")
        // Round trip over a few centuries of days.
        for days in stride(from: -200_000, through: 200_000, by: 997) {
            let day = UTCDay(daysSinceEpoch: Int32(days))
            #expect(UTCDay(day.description) == day)
        }
    }

    @Test func manualClockMoves() {
        let clock = ManualClock(millis: 1000)
        clock.advance(seconds: 2)
        clock.advance(millis: 5)
        #expect(clock.nowMillis() == 3005)
        clock.set(millis: 7)
        #expect(clock.nowMillis() == 7)
        let system = SystemClock().nowMillis()
        #expect(system > utc(2024, 1, 1))
    }
}
