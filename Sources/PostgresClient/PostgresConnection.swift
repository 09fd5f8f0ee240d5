import ClientSupport
import CLibPQ
import Foundation
import Logging

/// The blocking libpq shell: one `PGconn`, used only from its client's `ConnectionThread`.
/// A broken connection is reported once and dropped; the next call reconnects, failing fast with the
/// last connect error during a doubling backoff after failed attempts.
final class PostgresConnection: @unchecked Sendable {
    let configuration: PostgresConfiguration
    /// `configuration.serverDescription`, made once: every result and error carries it.
    let server: String
    private let logger: Logger
    private var handle: OpaquePointer?
    /// Set once a connection broke, so the next successful connect is logged as a recovery.
    private var lostConnection = false
    private var isClosed = false
    private var lastConnectError: PostgresError?
    private var nextConnectAttempt: ContinuousClock.Instant?
    private var currentBackoff: Duration

    init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.server = configuration.serverDescription
        self.logger = logger
        self.currentBackoff = configuration.reconnectInitialDelay
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects unless already connected, honouring the backoff after a failed attempt.
    @discardableResult
    func connectIfNeeded() throws(PostgresError) -> OpaquePointer {
        if isClosed { throw PostgresError(kind: .closed, server: server, message: "closed") }
        if let handle {
            if PQstatus(handle) == CONNECTION_OK { return handle }
            dropConnection()
            lostConnection = true
        }
        if let nextConnectAttempt, let lastConnectError, ContinuousClock.now < nextConnectAttempt {
            throw lastConnectError
        }
        let parameters = configuration.connectionParameters
        let keywords = parameters.map { strdup($0.keyword) } + [nil]
        let values = parameters.map { strdup($0.value) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 0)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { redacted(Self.connectionMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            let error = PostgresError(kind: .connectFailed, server: server, message: message)
            lastConnectError = error
            logger.warning("Cannot connect to Postgres; retrying after a backoff", metadata: [
                "postgres.server": "\(server)", "postgres.error": "\(message)", "postgres.backoff": "\(currentBackoff)",
            ])
            nextConnectAttempt = ContinuousClock.now + currentBackoff
            currentBackoff = min(currentBackoff * 2, configuration.reconnectMaximumDelay)
            throw error
        }
        lastConnectError = nil
        nextConnectAttempt = nil
        currentBackoff = configuration.reconnectInitialDelay
        handle = connection
        if lostConnection {
            lostConnection = false
            logger.info("Reconnected to Postgres", metadata: ["postgres.server": "\(server)"])
        }
        return connection
    }

    /// Runs one statement with text parameters (`$1`, `$2`...) and returns its result.
    func query(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        let connection = try connectIfNeeded()
        let texts = parameters.map { $0.parameterText.map { strdup($0) } ?? nil }
        defer { texts.forEach { free($0) } }
        let types = parameters.map(\.typeOID)
        let result = texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            types.withUnsafeBufferPointer { types in
                PQexecParams(connection, sql, Int32(parameters.count), types.baseAddress, values.baseAddress, nil, nil, 0)
            }
        }
        guard let result else {
            throw failure(connection, result: nil)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY else {
            let error = failure(connection, result: result)
            PQclear(result)
            throw error
        }
        return PostgresResult(handle: result, server: server)
    }

    /// Whether a transaction block is open (to decide whether a rollback can be sent).
    var isInTransaction: Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Closes the connection; later calls fail with `closed`.
    func close() {
        isClosed = true
        dropConnection()
    }

    private func failure(_ connection: OpaquePointer, result: OpaquePointer?) -> PostgresError {
        let sqlState = result.flatMap { field($0, "C") }
        let primary = result.flatMap { field($0, "M") }
        let detail = result.flatMap { field($0, "D") }
        let message = redacted(primary ?? Self.connectionMessage(connection))
        if PQstatus(connection) != CONNECTION_OK {
            dropConnection()
            lostConnection = true
            logger.warning("Postgres connection lost; the next call reconnects", metadata: [
                "postgres.server": "\(server)", "postgres.error": "\(message)",
            ])
            return PostgresError(kind: .connectionLost, server: server, sqlState: sqlState, message: message, detail: detail.map(redacted))
        }
        if sqlState == Self.readOnlyTransaction {
            // The server became a standby (a failover demoted it): reconnect, and libpq finds the
            // read-write one among the URL's servers.
            dropConnection()
            lostConnection = true
            logger.warning("Postgres server is read-only now; the next call reconnects", metadata: [
                "postgres.server": "\(server)", "postgres.error": "\(message)",
            ])
            return PostgresError(kind: .connectionLost, server: server, sqlState: sqlState, message: message, detail: detail.map(redacted))
        }
        return PostgresError(kind: .queryFailed, server: server, sqlState: sqlState, message: message, detail: detail.map(redacted))
    }

    /// SQLSTATE `read_only_sql_transaction`: a write reached a standby.
    static let readOnlyTransaction = "25006"

    /// A diagnostic field by its code letter (`C` SQLSTATE, `M` primary message, `D` detail).
    private func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        PQresultErrorField(result, Int32(code.value)).map { String(cString: $0) }
    }

    private func dropConnection() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    /// libpq's last message on one line.
    private static func connectionMessage(_ connection: OpaquePointer) -> String {
        let text = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.isEmpty ? "unknown error" : lines.joined(separator: "; ")
    }

    /// Removes the password should a message ever echo it.
    private func redacted(_ text: String) -> String { Redaction.hiding(configuration.password, in: text) }
}
