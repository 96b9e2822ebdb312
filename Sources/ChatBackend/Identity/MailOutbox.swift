import Logging
import Synchronization

/// An e-mail the server sends.
public struct Mail: Sendable, Equatable {
    public var to: String
    public var subject: String
    public var body: String

    public init(to: String, subject: String, body: String) {
        self.to = to
        self.subject = subject
        self.body = body
    }
}

/// Where outgoing e-mail goes.
public protocol MailOutbox: Sendable {
    /// Sends (or records) one e-mail.
    func send(_ mail: Mail) async
}

/// The default outbox: writes each e-mail to the log, like Django's console e-mail back-end.
public struct LogMailOutbox: MailOutbox {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ mail: Mail) async {
        logger.notice("e-mail to \(mail.to): \(mail.subject)\n\(mail.body)")
    }
}

/// An outbox that keeps what was sent, for tests and for the simulator's in-process server.
public final class MemoryMailOutbox: MailOutbox {
    private let sent = Mutex<[Mail]>([])

    public init() {}

    public func send(_ mail: Mail) async {
        sent.withLock { $0.append(mail) }
    }

    /// Everything sent so far, oldest first.
    public var mails: [Mail] {
        sent.withLock { $0 }
    }
}
