import ChatBackend
import Logging
import ServiceLifecycle

/// The server application running on a service group of its own, once it listens: what the
/// simulator's in-process server and the test suites' servers run on.
///
/// Starting waits for the port, or for the reason the application stopped before listening (a
/// failed migration, a port in use): a server that cannot start fails its caller with that error
/// instead of leaving it waiting.
public struct RunningApplication: Sendable {
    /// The port the server listens on.
    public let port: Int
    private let services: ServiceGroup
    private let task: Task<Void, any Error>

    /// Builds the application for `configuration`, starts it, and returns once it listens.
    public static func start(_ configuration: AppConfiguration, logger: Logger) async throws -> RunningApplication {
        var configuration = configuration
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let alsoListening = configuration.onListening
        configuration.onListening = { port in
            await alsoListening?(port)
            portContinuation.yield(port)
        }
        let app = try await buildApplication(configuration)
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            // Ending the stream tells the waiting caller that no port will come.
            defer { portContinuation.finish() }
            try await services.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw SimulatorError("the server stopped before it listened")
        }
        return RunningApplication(port: port, services: services, task: task)
    }

    /// Shuts the server down gracefully; throws what made it fail, if it did.
    public func stop() async throws {
        await services.triggerGracefulShutdown()
        try await task.value
    }
}
