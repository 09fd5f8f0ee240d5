/// The declarations a connection has made, in order, so it can replay them after a reconnect.
struct TopologyRecord: Sendable, Equatable {
    enum Entry: Sendable, Equatable {
        case exchange(ExchangeDeclaration)
        case queue(QueueDeclaration)
        case binding(QueueBinding)
    }

    private(set) var entries: [Entry] = []

    mutating func record(_ entry: Entry) {
        // A repeated declaration replaces the earlier one in place; order of first appearance is kept.
        if let index = entries.firstIndex(where: { $0.identity == entry.identity }) {
            entries[index] = entry
        } else {
            entries.append(entry)
        }
    }

    mutating func forgetQueue(_ name: String) {
        entries.removeAll { entry in
            switch entry {
            case let .queue(q): q.name == name
            case let .binding(b): b.queue == name
            case .exchange: false
            }
        }
    }

    mutating func forgetExchange(_ name: String) {
        entries.removeAll { entry in
            switch entry {
            case let .exchange(e): e.name == name
            case let .binding(b): b.exchange == name
            case .queue: false
            }
        }
    }

    mutating func forgetBinding(_ binding: QueueBinding) {
        entries.removeAll { $0.identity == Entry.binding(binding).identity }
    }
}

extension TopologyRecord.Entry {
    var identity: String {
        switch self {
        case let .exchange(e): "e\u{0}\(e.name)"
        case let .queue(q): "q\u{0}\(q.name)"
        case let .binding(b): "b\u{0}\(b.queue)\u{0}\(b.exchange)\u{0}\(b.routingKey)\u{0}\(b.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })"
        }
    }
}
