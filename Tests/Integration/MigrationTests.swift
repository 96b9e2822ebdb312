@testable import ChatBackend
import Logging
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("migrations are known by name, applied once, and listed with their state")
    func appliedOnceByName() async throws {
        let logger = Logger(label: "migration-test")
        try await SQLiteDatabase.open(path: nil, logger: logger).whileRunning { database in
            #expect(try await Migrations.status(of: database).allSatisfy { !$0.applied })
            try await Migrations.apply(to: database, logger: logger)
            try await Migrations.apply(to: database, logger: logger)
            let status = try await Migrations.status(of: database)
            #expect(status.map(\.name) == ["0001_initial", "0002_google_subject"])
            #expect(status.allSatisfy { $0.applied })
        }
    }

    @Test("a database migrated by the first release (steps numbered by position) carries over and is not migrated again")
    func numberedStepsCarryOver() async throws {
        let logger = Logger(label: "migration-test")
        try await SQLiteDatabase.open(path: nil, logger: logger).whileRunning { database in
            // The first release: step 1 applied and recorded as version 1 in schema_migrations.
            _ = try await database.query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            for statement in Migrations.steps(database.dialect)[0].statements {
                _ = try await database.query(statement)
            }
            _ = try await database.query("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)")

            try await Migrations.apply(to: database, logger: logger)
            #expect(try await Migrations.status(of: database).allSatisfy { $0.applied })
            let columns = try await database.query("SELECT name FROM pragma_table_info('users')").map { try $0.string("name") }
            #expect(columns.contains("google_subject"))
        }
    }
}
