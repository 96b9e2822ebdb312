import Foundation

/// The CPU a simulator process used over part of a run (`getrusage`, user + system), so a report
/// says whether the load generator itself was the bottleneck.
public struct CPUUsage: Sendable, Codable, Equatable {
    /// Which process: `chat-sim`, or `worker 2`.
    public var process: String
    /// Wall-clock seconds measured over.
    public var seconds: Double
    public var userSeconds: Double
    public var systemSeconds: Double
    /// The machine's cores, for the share of the machine.
    public var cores: Int
    /// Whether the process also ran the in-process server (its CPU is then counted here too).
    public var includesServer: Bool
    /// CPU time over wall time: 100 is one core kept busy.
    public var percentOfCore: Double
    /// The same over every core of the machine.
    public var percentOfMachine: Double

    init(process: String, seconds: Double, userSeconds: Double, systemSeconds: Double, cores: Int, includesServer: Bool) {
        self.process = process
        self.seconds = seconds
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.cores = cores
        self.includesServer = includesServer
        percentOfCore = (userSeconds + systemSeconds) / max(seconds, 0.001) * 100
        percentOfMachine = percentOfCore / Double(max(cores, 1))
    }

    /// `worker 1: 43.2 % of a core (21.6 % of 2 cores), user 5.1 s + system 1.4 s over 15.0 s`
    public var line: String {
        String(
            format: "%@: %.1f %% of a core (%.1f %% of %d cores), user %.2f s + system %.2f s over %.1f s%@",
            process, percentOfCore, percentOfMachine, cores, userSeconds, systemSeconds, seconds,
            includesServer ? " (includes the in-process server)" : ""
        )
    }
}

/// A start of a CPU measurement of this process.
struct CPUStopwatch: Sendable {
    private let wall = MonotonicTime.now()
    private let start = CPUStopwatch.times()

    /// The CPU used since the stopwatch started.
    func usage(process: String, includesServer: Bool) -> CPUUsage {
        let end = Self.times()
        return CPUUsage(
            process: process, seconds: Double(MonotonicTime.now() - wall) / 1e9,
            userSeconds: end.user - start.user, systemSeconds: end.system - start.system,
            cores: ProcessInfo.processInfo.activeProcessorCount, includesServer: includesServer
        )
    }

    private static func times() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }
}
