import PostgresClient
import RecoveryCore

/// The `"Id"` column of the endpoints table, read as an endpoint id.
extension EndpointID: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws(PostgresDecodingFailure) -> EndpointID {
        EndpointID(try String.decode(cell))
    }
}

extension PostgresValue {
    /// An endpoint id as a text parameter.
    static func endpointID(_ id: EndpointID) -> PostgresValue { .text(id.rawValue) }
}
