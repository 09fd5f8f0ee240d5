import CLibPQ

/// A column of a result: its name and type.
public struct PostgresColumn: Sendable, Equatable {
    public let name: String
    public let type: PostgresDataType
}

/// The rows of one statement's result, decoded on demand from libpq's result (which is read-only and
/// safe to read from any thread). Rows are values indexing into it.
public final class PostgresResult: @unchecked Sendable, RandomAccessCollection {
    private let handle: OpaquePointer
    /// The server this came from, for error messages.
    let server: String
    public let columns: [PostgresColumn]
    private let columnIndexes: [String: Int]
    /// The rows a command affected (`UPDATE`, `DELETE`, `INSERT`...), nil when the command reports none.
    public let affectedRows: Int?

    init(handle: OpaquePointer, server: String) {
        self.handle = handle
        self.server = server
        let count = Int(PQnfields(handle))
        var columns: [PostgresColumn] = []
        var indexes: [String: Int] = [:]
        for index in 0..<count {
            let name = PQfname(handle, Int32(index)).map { String(cString: $0) } ?? ""
            columns.append(PostgresColumn(name: name, type: PostgresDataType(rawValue: PQftype(handle, Int32(index)))))
            if indexes[name] == nil { indexes[name] = index }
        }
        self.columns = columns
        self.columnIndexes = indexes
        let affected = PQcmdTuples(handle).map { String(cString: $0) } ?? ""
        self.affectedRows = Int(affected)
        self.endIndex = Int(PQntuples(handle))
    }

    deinit {
        PQclear(handle)
    }

    public let startIndex = 0
    public let endIndex: Int

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(result: self, index: position)
    }

    /// The index of the column named `name`; throws naming the column and the ones that exist.
    func columnIndex(_ name: String) throws(PostgresError) -> Int {
        guard let index = columnIndexes[name] else {
            throw PostgresError(
                kind: .decodingFailed, server: server,
                message: "no column '\(name)' in the result (columns: \(columns.map(\.name).joined(separator: ", ")))"
            )
        }
        return index
    }

    func cell(row: Int, column: Int) throws(PostgresError) -> PostgresCell {
        guard columns.indices.contains(column) else {
            throw PostgresError(kind: .decodingFailed, server: server, message: "no column \(column) in a result of \(columns.count) columns")
        }
        let bytes: UnsafeRawBufferPointer?
        if PQgetisnull(handle, Int32(row), Int32(column)) != 0 {
            bytes = nil
        } else {
            let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
            bytes = UnsafeRawBufferPointer(start: PQgetvalue(handle, Int32(row), Int32(column)), count: length)
        }
        return PostgresCell(column: columns[column], bytes: bytes)
    }
}

/// One row of a `PostgresResult`; decode its cells by column name or index.
public struct PostgresRow: Sendable {
    public let result: PostgresResult
    public let index: Int

    /// Decodes the cell of the column named `column` as `T` (use an optional `T` for nullable columns).
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        try decode(at: result.columnIndex(column), as: type)
    }

    /// Decodes the cell at column position `column` (from 0) as `T`.
    public func decode<T: PostgresDecodable>(at column: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        let cell = try result.cell(row: index, column: column)
        do throws(PostgresDecodingFailure) {
            defer { withExtendedLifetime(result) {} }
            return try T.decode(cell)
        } catch {
            throw PostgresError(
                kind: .decodingFailed, server: result.server,
                message: "column '\(cell.column.name)' (\(cell.column.type)) of row \(index): \(error.reason)"
            )
        }
    }

    /// True when the cell of the column named `column` is SQL NULL.
    public func isNull(_ column: String) throws(PostgresError) -> Bool {
        try result.cell(row: index, column: result.columnIndex(column)).bytes == nil
    }
}
