import ArgumentParser
import ChatBackend
import Foundation
import Hummingbird
import Logging

/// `chat-server`: serves the chat API, or applies migrations, or runs an admin command, and exits.
@main
struct ChatServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-server",
        abstract: "A chat back-end: REST API and WebSockets, on SQLite by default.",
        discussion: "Environment:\n" + AppConfiguration.environmentVariables.map { "  \($0.name)\n      \($0.meaning)" }.joined(separator: "\n"),
        subcommands: [Serve.self, Migrate.self, UserCommand.self, TokenCommand.self, Seed.self],
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

// MARK: Admin commands

/// `chat-server user create|list|deactivate`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create, list or deactivate accounts on the configured database.",
        subcommands: [CreateUser.self, ListUsers.self, DeactivateUser.self]
    )
}

/// Creates an active, confirmed account and prints its uuid.
struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an active account (e-mail confirmed) and print its uuid.",
        discussion: "The password is hashed as registration hashes it, under the same password rules."
    )

    @Option(help: "The account's e-mail address.")
    var email: String

    @Option(help: "The account's username.")
    var username: String

    @Option(help: "The password (visible to other users of the machine: prefer --password-stdin).")
    var password: String?

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    func validate() throws {
        guard (password != nil) != passwordStdin else { throw ValidationError("give exactly one of --password and --password-stdin") }
    }

    func run() async throws {
        let configuration = try loadConfiguration(logsToStandardError: true)
        let secret: String
        if let password {
            secret = password
        } else {
            guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
            secret = line
        }
        try await adminStep {
            let user = try await Admin.createUser(configuration, email: email, username: username, password: secret)
            print(user.uuid.uuidString.lowercased())
        }
    }
}

/// Prints accounts, tab-separated, one per line.
struct ListUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List accounts, oldest first: uuid, username, e-mail, active|inactive (tab-separated)."
    )

    @Option(help: "How many accounts at most.")
    var limit = 100

    func run() async throws {
        let configuration = try loadConfiguration(logsToStandardError: true)
        try await adminStep {
            for user in try await Admin.listUsers(configuration, limit: limit) {
                print(Admin.listLine(user))
            }
        }
    }
}

/// Deactivates an account and revokes its tokens.
struct DeactivateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deactivate",
        abstract: "Deactivate an account (it can no longer log in) and revoke every token of it.",
        discussion: Admin.revocationNote
    )

    @Argument(help: "The account's e-mail, username or uuid.")
    var user: String

    func run() async throws {
        let configuration = try loadConfiguration(logsToStandardError: true)
        try await adminStep {
            let (account, revoked) = try await Admin.deactivateUser(configuration, user)
            print("deactivated \(account.uuid.uuidString.lowercased()) \(account.username); \(revoked) token(s) revoked")
        }
    }
}

/// `chat-server token revoke`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Revoke tokens on the configured database.", subcommands: [RevokeTokens.self]
    )
}

/// Revokes every token of an account; the account may log in again.
struct RevokeTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke every token of an account (it stays active and may log in again).",
        discussion: Admin.revocationNote
    )

    @Argument(help: "The account's e-mail, username or uuid.")
    var user: String

    func run() async throws {
        let configuration = try loadConfiguration(logsToStandardError: true)
        try await adminStep {
            let (account, revoked) = try await Admin.revokeTokens(configuration, user)
            print("revoked \(revoked) token(s) of \(account.uuid.uuidString.lowercased()) \(account.username)")
        }
    }
}

/// Fills the configured database with demo data.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add demo data: users seed-1…N (friends in a row), M group chats with K messages each.",
        discussion: "Run again, it adds only what is missing and says what already existed."
    )

    @Option(help: "Demo users (1…\(Admin.seedLimits.users)).")
    var users = 10

    @Option(help: "Group chats (0…\(Admin.seedLimits.chats)).")
    var chats = 2

    @Option(help: "Messages per group chat (0…\(Admin.seedLimits.messages)).")
    var messages = 20

    @Option(help: "The demo users' password.")
    var password = Admin.defaultSeedPassword

    func run() async throws {
        let configuration = try loadConfiguration(logsToStandardError: true)
        try await adminStep {
            let report = try await Admin.seed(configuration, users: users, chats: chats, messages: messages, password: password)
            report.lines.forEach { print($0) }
            print("password of seed-1…seed-\(users) (e-mail seed-<n>@example.com): \(password)")
        }
    }
}

/// Runs an admin command's work; a failure prints one line on standard error and exits 1.
private func adminStep(_ work: () async throws -> Void) async throws {
    do {
        try await work()
    } catch let error as AdminError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// The configuration from the environment, with a clear message when a setting is wrong; the
/// process's logging then writes in the configured format (on standard error for the admin
/// commands, whose standard output is for scripts).
private func loadConfiguration(logsToStandardError: Bool = false) throws -> AppConfiguration {
    let configuration: AppConfiguration
    do {
        configuration = try AppConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
    switch configuration.logFormat {
    case .text where logsToStandardError: LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    case .text: LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
    case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0, output: logsToStandardError ? .standardError : .standardOutput) }
    }
    return configuration
}
