// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "xiaozhi-recovery-pool",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scheduler", targets: ["Scheduler"]),
        .executable(name: "worker", targets: ["Worker"]),
        .executable(name: "xiaozhi-sim", targets: ["XiaozhiSim"]),
        .executable(name: "bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // C libraries, each behind a small shim header.
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Clients: the only modules that import a C module.
        .target(name: "AMQPClient", dependencies: ["CRabbitMQ", "ClientSupport", .product(name: "Logging", package: "swift-log")]),
        .target(name: "ClientSupport"),
        .target(name: "RedisClient", dependencies: ["CHiredis", "ClientSupport", .product(name: "Logging", package: "swift-log")]),
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "ClientSupport", .product(name: "Logging", package: "swift-log")]),

        // WebSocket: the pure RFC 6455 codec and handshake; Transport: sockets, TLS, the event loop, sessions.
        .target(name: "WebSocket", dependencies: ["ClientSupport"]),
        .target(name: "Transport", dependencies: ["WebSocket", "ClientSupport", "COpenSSL", .product(name: "Logging", package: "swift-log")]),

        // MCP: the pure JSON-RPC server side of a Xiaozhi session and the upstream bridge.
        // JSON: one JSON value type, its strict parser and writer (numbers kept as their text).
        .target(name: "JSON"),
        .target(name: "MCP", dependencies: ["JSON", "Transport", "ClientSupport", .product(name: "Logging", package: "swift-log")]),

        // RecoveryCore: pure domain (jobs, results, planner, policies, config); Recovery: the services.
        .target(name: "RecoveryCore", dependencies: ["ClientSupport", "JSON"]),
        .target(
            name: "Recovery",
            dependencies: [
                "RecoveryCore", "AMQPClient", "RedisClient", "PostgresClient", "Transport", "MCP", "JSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Console: the operators' web console, over the same readers and operations as the CLI.
        .target(
            name: "Console",
            dependencies: [
                "Recovery", "RecoveryCore", "ClientSupport", "Transport", "WebSocket", "AMQPClient", "RedisClient", "MCP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // PoolCommand: what the two executables share: the common options and the run commands' wiring.
        .target(
            name: "PoolCommand",
            dependencies: [
                "Recovery", "RecoveryCore", "AMQPClient", "RedisClient", "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "Scheduler", dependencies: ["Recovery", "Console", "PoolCommand", "ClientSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "Worker", dependencies: ["Recovery", "PoolCommand", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "XiaozhiSim",
            dependencies: ["JSON", "Transport", "WebSocket", "ClientSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "AMQPClient", "RedisClient", "PostgresClient", "WebSocket", "Transport", "RecoveryCore", "Recovery", "MCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "AMQPClientTests", dependencies: ["AMQPClient", "ClientSupport"]),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "ClientSupport"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "ClientSupport"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "ClientSupport"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "WebSocket", "ClientSupport"]),
        .testTarget(name: "MCPTests", dependencies: ["MCP", "JSON", "Transport"]),
        .testTarget(name: "RecoveryCoreTests", dependencies: ["RecoveryCore", "ClientSupport", "JSON"]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "Recovery", "RecoveryCore", "Transport", "WebSocket", "AMQPClient", "RedisClient", "PostgresClient", .product(name: "Logging", package: "swift-log")],
            exclude: ["Browser"]),
        .testTarget(name: "RecoveryTests", dependencies: ["Recovery", "RecoveryCore", "ClientSupport", "JSON", "Transport", "WebSocket", "RedisClient", "PostgresClient", "AMQPClient", "MCP", .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "XiaozhiSimTests", dependencies: ["XiaozhiSim", "JSON", "Transport", "WebSocket"]),
        .testTarget(name: "DeploymentTests", dependencies: []),
    ]
)
