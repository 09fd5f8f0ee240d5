import CRabbitMQ

/// Copies of librabbitmq data into Swift values, made before the library's buffers are released.
enum CDecode {
    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let base = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: b.len))
    }

    static func string(_ b: amqp_bytes_t) -> String {
        String(decoding: bytes(b), as: UTF8.self)
    }

    static func table(_ t: amqp_table_t) -> AMQPTable {
        var result: AMQPTable = [:]
        guard t.num_entries > 0, let entries = t.entries else { return result }
        for i in 0..<Int(t.num_entries) {
            result[string(entries[i].key)] = field(entries[i].value)
        }
        return result
    }

    static func field(_ f: amqp_field_value_t) -> AMQPFieldValue {
        switch UInt32(f.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: .bool(f.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: .int8(f.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: .uint8(f.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: .int16(f.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: .uint16(f.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: .int32(f.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: .uint32(f.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: .int64(f.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: .uint64(f.value.u64)
        case AMQP_FIELD_KIND_F32.rawValue: .float(f.value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: .double(f.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue: .decimal(scale: f.value.decimal.decimals, value: f.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8.rawValue:
            String(validating: bytes(f.value.bytes), as: UTF8.self).map(AMQPFieldValue.string) ?? .bytes(bytes(f.value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue: .bytes(bytes(f.value.bytes))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            .array((0..<Int(f.value.array.num_entries)).map { field(f.value.array.entries[$0]) })
        case AMQP_FIELD_KIND_TABLE.rawValue: .table(table(f.value.table))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: .timestamp(f.value.u64)
        default: .void
        }
    }

    static func properties(_ raw: UnsafeMutableRawPointer?) -> AMQPProperties {
        guard let raw else { return AMQPProperties() }
        let c = raw.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee
        let flags = UInt32(c._flags)
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        var p = AMQPProperties()
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { p.contentType = string(c.content_type) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { p.contentEncoding = string(c.content_encoding) }
        if has(AMQP_BASIC_HEADERS_FLAG) { p.headers = table(c.headers) }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { p.deliveryMode = c.delivery_mode }
        if has(AMQP_BASIC_PRIORITY_FLAG) { p.priority = c.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { p.correlationID = string(c.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { p.replyTo = string(c.reply_to) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { p.expiration = string(c.expiration) }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { p.messageID = string(c.message_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { p.timestamp = c.timestamp }
        if has(AMQP_BASIC_TYPE_FLAG) { p.type = string(c.type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { p.userID = string(c.user_id) }
        if has(AMQP_BASIC_APP_ID_FLAG) { p.appID = string(c.app_id) }
        return p
    }
}
