/// How long the server waits for its clients; the defaults are the bounds in ``Limits``, and tests
/// shorten them.
public struct ConnectionSettings: Sendable {
    /// See ``Limits/idleConnectionTimeout``.
    public var idleTimeout = Limits.idleConnectionTimeout
    /// See ``Limits/requestTimeout``.
    public var requestTimeout = Limits.requestTimeout

    public init() {}
}
