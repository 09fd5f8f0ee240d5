import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif

/// Scratch memory for the C arguments of one call: strings, tables and properties are copied into a
/// librabbitmq pool that lives until `reset()`, so no `amqp_bytes_t` ever points into Swift storage.
final class ScratchPool {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init() {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, 16 * 1024)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Frees everything allocated since the last reset, keeping the pages for reuse.
    func reset() { recycle_amqp_pool(pool) }

    func bytes(_ text: String) -> amqp_bytes_t {
        var text = text
        return text.withUTF8 { copy(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        data.withUnsafeBytes { copy($0) }
    }

    /// A NUL-terminated copy, for the C functions that take `const char *`.
    func cString(_ text: String) -> UnsafePointer<CChar> {
        var text = text
        return text.withUTF8 { source in
            let memory = amqp_pool_alloc(pool, source.count + 1)!
            if let base = source.baseAddress { memcpy(memory, base, source.count) }
            memory.storeBytes(of: 0, toByteOffset: source.count, as: UInt8.self)
            return UnsafePointer(memory.assumingMemoryBound(to: CChar.self))
        }
    }

    private func copy(_ source: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard let base = source.baseAddress, source.count > 0 else { return amqp_bytes_t(len: 0, bytes: nil) }
        let memory = amqp_pool_alloc(pool, source.count)!
        memcpy(memory, base, source.count)
        return amqp_bytes_t(len: source.count, bytes: memory)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let raw = amqp_pool_alloc(pool, MemoryLayout<amqp_table_entry_t>.stride * table.count)!
        let entries = raw.bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (offset, (key, value)) in table.sorted(by: { $0.key < $1.key }).enumerated() {
            (entries + offset).initialize(to: amqp_table_entry_t(key: bytes(key), value: field(value)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(k.rawValue) }
        switch value {
        case let .bool(v): field.kind = kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = v ? 1 : 0
        case let .int8(v): field.kind = kind(AMQP_FIELD_KIND_I8); field.value.i8 = v
        case let .uint8(v): field.kind = kind(AMQP_FIELD_KIND_U8); field.value.u8 = v
        case let .int16(v): field.kind = kind(AMQP_FIELD_KIND_I16); field.value.i16 = v
        case let .uint16(v): field.kind = kind(AMQP_FIELD_KIND_U16); field.value.u16 = v
        case let .int32(v): field.kind = kind(AMQP_FIELD_KIND_I32); field.value.i32 = v
        case let .uint32(v): field.kind = kind(AMQP_FIELD_KIND_U32); field.value.u32 = v
        case let .int64(v): field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = v
        case let .uint64(v): field.kind = kind(AMQP_FIELD_KIND_U64); field.value.u64 = v
        case let .float(v): field.kind = kind(AMQP_FIELD_KIND_F32); field.value.f32 = v
        case let .double(v): field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = v
        case let .decimal(scale, v):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL); field.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case let .string(v): field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(v)
        case let .bytes(v): field.kind = kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(v)
        case let .array(values):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            var array = amqp_array_t(num_entries: Int32(values.count), entries: nil)
            if !values.isEmpty {
                let raw = amqp_pool_alloc(pool, MemoryLayout<amqp_field_value_t>.stride * values.count)!
                let entries = raw.bindMemory(to: amqp_field_value_t.self, capacity: values.count)
                for (offset, element) in values.enumerated() { (entries + offset).initialize(to: self.field(element)) }
                array.entries = entries
            }
            field.value.array = array
        case let .table(t): field.kind = kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(t)
        case let .timestamp(v): field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = v
        case .void: field.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ p: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let v = p.contentType { c.content_type = bytes(v); flags |= UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG) }
        if let v = p.contentEncoding { c.content_encoding = bytes(v); flags |= UInt32(AMQP_BASIC_CONTENT_ENCODING_FLAG) }
        if let v = p.headers { c.headers = table(v); flags |= UInt32(AMQP_BASIC_HEADERS_FLAG) }
        if let v = p.deliveryMode { c.delivery_mode = v; flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG) }
        if let v = p.priority { c.priority = v; flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG) }
        if let v = p.correlationID { c.correlation_id = bytes(v); flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG) }
        if let v = p.replyTo { c.reply_to = bytes(v); flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG) }
        if let v = p.expiration { c.expiration = bytes(v); flags |= UInt32(AMQP_BASIC_EXPIRATION_FLAG) }
        if let v = p.messageID { c.message_id = bytes(v); flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG) }
        if let v = p.timestamp { c.timestamp = v; flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG) }
        if let v = p.type { c.type = bytes(v); flags |= UInt32(AMQP_BASIC_TYPE_FLAG) }
        if let v = p.userID { c.user_id = bytes(v); flags |= UInt32(AMQP_BASIC_USER_ID_FLAG) }
        if let v = p.appID { c.app_id = bytes(v); flags |= UInt32(AMQP_BASIC_APP_ID_FLAG) }
        c._flags = flags
        return c
    }
}
