import Testing
import RouteCompiler

@Suite struct ModelPatternTests {
    @Test(arguments: [
        ("*", "anything", true), ("*", "", true), ("mock-*", "mock-gpt", true), ("mock-*", "mock-", true),
        ("mock-*", "gpt-mock", false), ("*-mini", "gpt-4o-mini", true), ("*-mini", "gpt-4o-mini-2024", false),
        ("gpt-4o", "gpt-4o", true), ("gpt-4o", "gpt-4o-mini", false), ("a*b*c", "aXbYc", true),
        ("a*b*c", "aXbY", false), ("moonshotai/*", "moonshotai/kimi-k2", true), ("**", "x", true),
    ])
    func matches(_ pattern: String, _ id: String, _ expected: Bool) {
        #expect(ModelPattern.matches(pattern, id) == expected)
    }
}
