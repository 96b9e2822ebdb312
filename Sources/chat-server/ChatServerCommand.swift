import ArgumentParser
import ChatBackend
import Foundation
import Hummingbird
import Logging

/// `chat-server`: serves the chat API, or applies migrations and exits.
@main
struct ChatServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-server",
        abstract: "A chat back-end: REST API and WebSockets, on SQLite by default.",
        discussion: "Environment:\n" + AppConfiguration.environmentVariables.map { "  \($0.name)\n      \($0.meaning)" }.joined(separator: "\n"),
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self
    )
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API (the default).")

    @Option(help: "Address to bind.")
    var hostname = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 8000

    func run() async throws {
        var configuration = try loadConfiguration()
        configuration.hostname = hostname
        configuration.port = port
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}

/// Applies the database migrations and exits, or lists them.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and exit.")

    @Flag(help: "List the migrations and whether each is applied, changing nothing.")
    var status = false

    func run() async throws {
        let configuration = try loadConfiguration()
        guard status else {
            try await migrateDatabase(configuration)
            return
        }
        for migration in try await migrationStatus(configuration) {
            print("\(migration.applied ? "applied" : "pending") \(migration.name)")
        }
    }
}

/// The configuration from the environment, with a clear message when a setting is wrong; the
/// process's logging then writes in the configured format.
private func loadConfiguration() throws -> AppConfiguration {
    let configuration: AppConfiguration
    do {
        configuration = try AppConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
    switch configuration.logFormat {
    case .text: LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
    case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
    }
    return configuration
}
