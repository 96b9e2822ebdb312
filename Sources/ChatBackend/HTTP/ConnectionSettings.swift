/// How long the server waits for its clients and how many it serves at once; the defaults are the
/// bounds in ``Limits``, and tests shorten them.
public struct ConnectionSettings: Sendable {
    /// See ``Limits/idleConnectionTimeout``.
    public var idleTimeout = Limits.idleConnectionTimeout
    /// See ``Limits/requestTimeout``.
    public var requestTimeout = Limits.requestTimeout
    /// See ``Limits/connectionsPerAddress``.
    public var maxConnectionsPerAddress = Limits.connectionsPerAddress
    /// See ``Limits/connections``.
    public var maxConnections = Limits.connections
    /// See ``Limits/socketPingInterval``.
    public var socketPingInterval = Limits.socketPingInterval
    /// See ``Limits/socketOutboundQueue``.
    public var socketOutboundQueue = Limits.socketOutboundQueue
    /// See ``Limits/socketPendingCommands``.
    public var socketPendingCommands = Limits.socketPendingCommands
    /// See ``Limits/socketCloseTimeout``.
    public var socketCloseTimeout = Limits.socketCloseTimeout

    public init() {}
}
