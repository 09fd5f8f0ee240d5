import Foundation
import Testing

/// The `observability` profile of `compose/docker-compose.yml` (Prometheus and Grafana), its configuration
/// files under `compose/`, and the Grafana dashboard, checked offline against the Compose model and against
/// the metric names the Swift sources really register.
@Suite struct ObservabilityTests {
    static let dashboardPath = "compose/grafana/dashboards/recovery-pool.json"
    static let prometheusConfigPath = "compose/prometheus.yml"
    static let datasourcePath = "compose/grafana/provisioning/datasources/prometheus.yml"
    static let dashboardProviderPath = "compose/grafana/provisioning/dashboards/recovery-pool.yml"

    /// The model without an admin password in the environment (an empty value counts as unset for `:-`).
    static func observability(password: String = "") throws -> [String: JSONValue] {
        try ComposeModel.load(profile: "observability", environment: ["GRAFANA_ADMIN_PASSWORD": password]).services
    }

    // MARK: the profile

    @Test func theProfileAddsPrometheusAndGrafanaWithHealthChecks() throws {
        // Without GRAFANA_ADMIN_PASSWORD the other profiles still load (`${VAR:?}` would fail every profile:
        // Compose interpolates the whole file before it drops the services of inactive profiles).
        let plain = try ComposeModel.load(profile: nil, environment: ["GRAFANA_ADMIN_PASSWORD": ""]).services
        let services = try Self.observability()
        for (name, image) in [("prometheus", "prom/prometheus:"), ("grafana", "grafana/grafana:")] {
            #expect(plain[name] == nil, "'\(name)' runs without the observability profile")
            let service = try #require(services[name], "'\(name)' missing from the observability profile")
            #expect(service["profiles"]?.array?.compactMap(\.string) == ["observability"])
            #expect(service["image"]?.string?.hasPrefix(image) == true, "\(name): image \(service["image"] ?? .null)")
            let test = service["healthcheck"]?["test"]?.array?.compactMap(\.string) ?? []
            #expect(!test.isEmpty && test.first != "NONE", "\(name) has no health check")
            #expect(service["healthcheck"]?["disable"]?.bool != true)
            #expect(service["restart"]?.string == "unless-stopped", "\(name): restart \(service["restart"] ?? .null)")
        }
        // The pool runs alongside, unchanged.
        for name in ["postgres", "redis", "rabbitmq", "migrate", "scheduler", "worker"] {
            #expect(services[name] != nil, "'\(name)' missing with the observability profile")
        }
        // The health checks probe the ports the servers listen on.
        let prometheusTest = services["prometheus"]?["healthcheck"]?["test"]?.array?.compactMap(\.string).joined(separator: " ") ?? ""
        #expect(prometheusTest.contains("127.0.0.1:9090/-/healthy"), "\(prometheusTest)")
        let grafanaTest = services["grafana"]?["healthcheck"]?["test"]?.array?.compactMap(\.string).joined(separator: " ") ?? ""
        #expect(grafanaTest.contains("127.0.0.1:3000/api/health"), "\(grafanaTest)")
    }

    @Test func everyPublishedPortIsOnLoopbackOnly() throws {
        let services = try Self.observability()
        for (name, service) in services {
            for port in service["ports"]?.array ?? [] where port["published"] != nil {
                #expect(port["host_ip"]?.string == "127.0.0.1", "service '\(name)' publishes \(port) beyond 127.0.0.1")
            }
        }
        #expect(services["prometheus"]?["ports"]?.array?.first?["target"]?.int == 9090)
        #expect(services["grafana"]?["ports"]?.array?.first?["target"]?.int == 3000)
    }

    @Test func grafanasAdminPasswordHasNoCommittedDefault() throws {
        let unset = try #require(try Self.observability()["grafana"]?["environment"])
        // No value without the variable: not Grafana's admin/admin, not a password in the file.
        #expect(unset["GF_SECURITY_ADMIN_PASSWORD"]?.string ?? "" == "", "a default admin password is committed: \(unset)")
        let set = try #require(try Self.observability(password: "from-the-environment")["grafana"]?["environment"])
        #expect(set["GF_SECURITY_ADMIN_PASSWORD"]?.string == "from-the-environment")
        // Anonymous access, if on, only views.
        if unset["GF_AUTH_ANONYMOUS_ENABLED"]?.string == "true" {
            #expect(unset["GF_AUTH_ANONYMOUS_ORG_ROLE"]?.string == "Viewer", "anonymous role \(unset["GF_AUTH_ANONYMOUS_ORG_ROLE"] ?? .null)")
        }
        // Without a password the entrypoint turns the admin login off before Grafana starts.
        let grafana = try #require(try Self.observability()["grafana"])
        let entrypoint = grafana["entrypoint"]?.array?.compactMap(\.string).joined(separator: " ") ?? ""
        #expect(entrypoint.contains("GF_AUTH_DISABLE_LOGIN_FORM=true") && entrypoint.contains("GF_AUTH_BASIC_ENABLED=false"), "\(entrypoint)")
        #expect(entrypoint.contains("exec /run.sh"), "the entrypoint does not start Grafana's own /run.sh: \(entrypoint)")
        // And no line of the compose file sets a literal password for Grafana.
        let text = try String(contentsOf: Repository.root.appendingPathComponent("compose/docker-compose.yml"), encoding: .utf8)
        let fromEnvironment = #/^\$\{GRAFANA_ADMIN_PASSWORD(:-|:\?[^}]*|\?[^}]*)?\}$/#
        for line in text.split(separator: "\n") where line.contains("GF_SECURITY_ADMIN_PASSWORD:") {
            let value = line.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? ""
            #expect(value.wholeMatch(of: fromEnvironment) != nil, "Grafana's admin password is not taken from GRAFANA_ADMIN_PASSWORD alone: \(line)")
        }
    }

    // MARK: mounts and provisioning

    /// The bind mounts of a service: host path and container path.
    static func binds(_ service: JSONValue?) -> [(source: String, target: String)] {
        (service?["volumes"]?.array ?? []).compactMap { volume in
            guard volume["type"]?.string == "bind", let source = volume["source"]?.string, let target = volume["target"]?.string else { return nil }
            return (source, target)
        }
    }

    @Test func everyMountedConfigurationExistsInTheRepository() throws {
        let services = try Self.observability()
        let compose = Repository.root.appendingPathComponent("compose").standardizedFileURL.path
        for name in ["prometheus", "grafana"] {
            let binds = Self.binds(services[name])
            #expect(!binds.isEmpty, "\(name) mounts nothing from the repository")
            for bind in binds {
                // Docker creates a missing bind source as an empty directory: a typo would go unnoticed.
                #expect(FileManager.default.fileExists(atPath: bind.source), "\(name) mounts \(bind.source), which does not exist")
                #expect(URL(fileURLWithPath: bind.source).standardizedFileURL.path.hasPrefix(compose + "/"), "\(name) mounts \(bind.source) from outside compose/")
            }
        }
        // Prometheus reads the mounted file.
        let prometheus = try #require(services["prometheus"])
        let configFlag = prometheus["command"]?.array?.compactMap(\.string).first { $0.hasPrefix("--config.file=") }
        let configTarget = try #require(configFlag?.dropFirst("--config.file=".count).description, "no --config.file")
        let configBind = try #require(Self.binds(prometheus).first { $0.target == configTarget }, "nothing mounted at \(configTarget)")
        #expect(configBind.source == Repository.root.appendingPathComponent(Self.prometheusConfigPath).path)

        // Grafana's provisioning directory holds the data source and the dashboard provider.
        let grafana = try #require(services["grafana"])
        let provisioningTarget = grafana["environment"]?["GF_PATHS_PROVISIONING"]?.string ?? "/etc/grafana/provisioning"
        for (file, inside) in [(Self.datasourcePath, "datasources/prometheus.yml"), (Self.dashboardProviderPath, "dashboards/recovery-pool.yml")] {
            let path = Repository.root.appendingPathComponent(file).path
            #expect(FileManager.default.fileExists(atPath: path), "\(file) missing")
            let seen = Self.binds(grafana).compactMap { bind in
                path.hasPrefix(bind.source + "/") ? bind.target + path.dropFirst(bind.source.count) : nil
            }
            #expect(seen.contains(provisioningTarget + "/" + inside), "\(file) is not mounted at \(provisioningTarget)/\(inside) (seen at \(seen))")
        }

        // The provider's path is where the dashboards are mounted, and the dashboard is there.
        let provider = try YAMLDocument.load(Self.dashboardProviderPath)
        #expect(provider["apiVersion"]?.int == 1)
        let providers = try #require(provider["providers"]?.array, "no providers")
        #expect(providers.count == 1)
        let dashboardsTarget = try #require(providers.first?["options"]?["path"]?.string, "provider without options.path")
        #expect(providers.first?["type"]?.string == "file")
        let dashboards = try #require(Self.binds(grafana).first { $0.target == dashboardsTarget }, "nothing mounted at the provider's path \(dashboardsTarget)")
        let dashboardFile = URL(fileURLWithPath: dashboards.source).appendingPathComponent("recovery-pool.json").path
        #expect(dashboardFile == Repository.root.appendingPathComponent(Self.dashboardPath).path)
        #expect(FileManager.default.fileExists(atPath: dashboardFile))
        if let home = grafana["environment"]?["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]?.string {
            #expect(home == dashboardsTarget + "/recovery-pool.json", "home dashboard \(home)")
        }
    }

    @Test func theDataSourceIsTheProfilesPrometheus() throws {
        let services = try Self.observability()
        let document = try YAMLDocument.load(Self.datasourcePath)
        #expect(document["apiVersion"]?.int == 1)
        let sources = try #require(document["datasources"]?.array)
        let prometheus = try #require(sources.first { $0["type"]?.string == "prometheus" }, "no prometheus data source")
        #expect(prometheus["access"]?.string == "proxy", "Grafana's server, not the browser, must reach http://prometheus")
        let url = try #require(prometheus["url"]?.string.flatMap(URLComponents.init(string:)), "no url")
        let host = try #require(url.host)
        #expect(services[host] != nil, "the data source points at \(host), not a service of the profile")
        #expect(services[host]?["ports"]?.array?.contains { $0["target"]?.int == url.port } == true, "\(host) does not listen on \(url.port.map(String.init) ?? "?")")
        #expect(sources.filter { $0["isDefault"]?.bool == true }.count <= 1)
    }

    // MARK: Prometheus

    /// The port `service` serves /metrics on: its `Metrics__Port`, else `config/defaults.json`'s.
    static func metricsPort(_ service: JSONValue?) throws -> Int {
        if let configured = service?["environment"]?["Metrics__Port"]?.string.flatMap(Int.init) { return configured }
        let defaults = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.root.appendingPathComponent("config/defaults.json"))) as? [String: Any]
        return try #require((defaults?["Metrics"] as? [String: Any])?["Port"] as? Int)
    }

    @Test func prometheusScrapesTheSchedulerAndEveryWorkerOnTheirMetricsPort() throws {
        let services = try Self.observability()
        let config = try YAMLDocument.load(Self.prometheusConfigPath)
        let jobs = try #require(config["scrape_configs"]?.array, "no scrape_configs")
        var scraped: [String: Set<String>] = [:]  // service -> how ("static", "dns")
        for job in jobs {
            let name = job["job_name"]?.string ?? "?"
            #expect((job["metrics_path"]?.string ?? "/metrics") == "/metrics", "\(name): metrics_path")
            for group in job["static_configs"]?.array ?? [] {
                for target in group["targets"]?.array?.compactMap(\.string) ?? [] {
                    let parts = target.split(separator: ":")
                    let host = String(parts[0]), port = parts.count == 2 ? Int(parts[1]) : nil
                    let service = try #require(services[host], "\(name): target \(target) is not a Compose service")
                    let metricsPort = try Self.metricsPort(service)
                    #expect(port == metricsPort, "\(name): \(target) is not \(host)'s metrics port \(metricsPort)")
                    scraped[host, default: []].insert("static")
                }
            }
            for discovery in job["dns_sd_configs"]?.array ?? [] {
                #expect((discovery["type"]?.string ?? "SRV") == "A", "\(name): Docker's DNS answers A records, not SRV")
                for host in discovery["names"]?.array?.compactMap(\.string) ?? [] {
                    let service = try #require(services[host], "\(name): name \(host) is not a Compose service")
                    let metricsPort = try Self.metricsPort(service)
                    #expect(discovery["port"]?.int == metricsPort, "\(name): port \(discovery["port"]?.int.map(String.init) ?? "none") is not \(host)'s metrics port \(metricsPort)")
                    scraped[host, default: []].insert("dns")
                }
            }
        }
        #expect(scraped["scheduler"] != nil, "the scheduler is not scraped")
        // `--scale worker=N`: one static target would reach one replica only.
        #expect(scraped["worker"] == ["dns"], "the workers must be found by DNS, got \(scraped["worker"] ?? [])")
        // The ports also agree with what the health checks probe.
        for name in ["scheduler", "worker"] {
            let test = services[name]?["healthcheck"]?["test"]?.array?.compactMap(\.string).joined(separator: " ") ?? ""
            let metricsPort = try Self.metricsPort(services[name])
            #expect(test.contains("127.0.0.1:\(metricsPort)/"), "\(name): \(test)")
        }
    }

    // MARK: the dashboard

    static func dashboard() throws -> [String: Any] {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent(dashboardPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "the dashboard is not a JSON object")
    }

    /// Every panel, rows' nested panels included.
    static func panels(_ dashboard: [String: Any]) -> [[String: Any]] {
        let top = dashboard["panels"] as? [[String: Any]] ?? []
        return top + top.flatMap { $0["panels"] as? [[String: Any]] ?? [] }
    }

    static func expressions(_ panel: [String: Any]) -> [String] {
        (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
    }

    @Test func theDashboardParsesAndEveryPanelQueriesTheDataSourceVariable() throws {
        let dashboard = try Self.dashboard()
        #expect((dashboard["uid"] as? String)?.isEmpty == false)
        #expect((dashboard["title"] as? String)?.isEmpty == false)
        #expect(dashboard["id"] == nil || dashboard["id"] is NSNull, "a provisioned dashboard carries no database id")
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let datasource = try #require(variables.first { $0["type"] as? String == "datasource" }, "no data source variable")
        #expect(datasource["query"] as? String == "prometheus")
        let variable = try #require(datasource["name"] as? String)

        let panels = Self.panels(dashboard)
        #expect(panels.count >= 10)
        var ids = Set<Int>()
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            if let id = panel["id"] as? Int { #expect(ids.insert(id).inserted, "panel id \(id) repeats ('\(title)')") }
            let grid = panel["gridPos"] as? [String: Int] ?? [:]
            #expect((grid["x"] ?? -1) >= 0 && (grid["x"] ?? 0) + (grid["w"] ?? 0) <= 24, "'\(title)': gridPos \(grid)")
            if panel["type"] as? String == "row" { continue }
            let uid = (panel["datasource"] as? [String: Any])?["uid"] as? String
            #expect(uid == "${\(variable)}", "'\(title)' does not use the data source variable: \(uid ?? "none")")
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "'\(title)' has no queries")
            for target in targets {
                #expect((target["expr"] as? String)?.isEmpty == false, "'\(title)': a query without expr")
                let targetUID = (target["datasource"] as? [String: Any])?["uid"] as? String
                #expect(targetUID == nil || targetUID == "${\(variable)}", "'\(title)': a query on \(targetUID ?? "")")
            }
        }
    }

    @Test func theDashboardQueriesOnlyMetricsTheSourcesRegister() throws {
        let registered = try SourceMetrics.registered()
        let panels = Self.panels(try Self.dashboard())
        var used = Set<String>()
        for panel in panels {
            for expression in Self.expressions(panel) {
                let names = PromQL.metricNames(in: expression)
                #expect(!names.isEmpty, "'\(panel["title"] ?? "?")': no metric in \(expression)")
                for name in names {
                    let metric = SourceMetrics.metric(of: name, in: registered)
                    #expect(metric != nil, "'\(panel["title"] ?? "?")' queries \(name), which no metric in Sources/ registers (\(expression))")
                    if let metric { used.insert(metric) }
                }
            }
        }
        // The panels the dashboard is for.
        for name in [
            "mcp_recovery_enabled_endpoints", "mcp_recovery_missing_endpoints", "mcp_recovery_sessions_held",
            "mcp_recovery_capacity_slots", "mcp_recovery_capacity_shortfall", "mcp_recovery_jobs_enqueued_total",
            "mcp_recovery_results_total", "mcp_recovery_success_ratio", "mcp_recovery_cycle_duration_seconds",
            "mcp_recovery_queue_depth", "mcp_recovery_dead_lettered_total",
        ] where registered[name] != nil {
            #expect(used.contains(name), "no panel shows \(name)")
        }
    }

    @Test func theSourceMetricsAreFound() throws {
        let registered = try SourceMetrics.registered()
        // If this fails the way metrics are declared changed: adapt `SourceMetrics`, not the dashboard.
        #expect(registered.count >= 10, "found only \(registered.keys.sorted())")
        #expect(registered["mcp_recovery_cycle_duration_seconds"] == .histogram)
        #expect(registered["mcp_recovery_results_total"] == .counter)
        #expect(SourceMetrics.metric(of: "mcp_recovery_cycle_duration_seconds_bucket", in: registered) == "mcp_recovery_cycle_duration_seconds")
        #expect(SourceMetrics.metric(of: "mcp_recovery_results_total_bucket", in: registered) == nil)
        #expect(SourceMetrics.metric(of: "mcp_recovery_no_such_metric", in: registered) == nil)
    }

    /// With Prometheus's `promtool` installed (not required: skipped without it), the configuration and every
    /// dashboard expression (Grafana's interval variables replaced) also pass Prometheus's own parsers.
    @Test(.enabled(if: Promtool.path != nil, "promtool is not installed"))
    func promtoolAcceptsTheConfigurationAndTheExpressions() throws {
        let promtool = try #require(Promtool.path)
        let config = try ProcessRun.run(promtool, ["check", "config", "--syntax-only", Repository.root.appendingPathComponent(Self.prometheusConfigPath).path])
        #expect(config.status == 0, "promtool check config: \(config.output) \(config.error)")

        let expressions = Self.panels(try Self.dashboard()).flatMap(Self.expressions)
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, expression) in expressions.enumerated() {
            let concrete = expression.replacingOccurrences(of: "$__rate_interval", with: "1m").replacingOccurrences(of: "${__rate_interval}", with: "1m")
                .replacingOccurrences(of: "$__range", with: "1h").replacingOccurrences(of: "${__range}", with: "1h")
                .replacingOccurrences(of: "$__interval", with: "1m").replacingOccurrences(of: "${__interval}", with: "1m")
            rules += "      - record: dashboard:expression_\(index)\n        expr: |\n"
            rules += concrete.split(separator: "\n", omittingEmptySubsequences: false).map { "          " + $0 }.joined(separator: "\n") + "\n"
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-promql-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rules.yml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        let checked = try ProcessRun.run(promtool, ["check", "rules", file.path])
        #expect(checked.status == 0, "promtool check rules: \(checked.output) \(checked.error)")
    }

    @Test func thePromQLReaderFindsMetricNamesOnly() {
        #expect(PromQL.metricNames(in: #"sum by (le, job) (rate(a_bucket{queue=~".+\\.dead", x="y}"}[$__rate_interval]))"#) == ["a_bucket"])
        #expect(PromQL.metricNames(in: "max((b - c) and on(instance, job) (d == 1)) / ignoring(x) group_left e offset 5m") == ["b", "c", "d", "e"])
        #expect(PromQL.metricNames(in: "histogram_quantile(0.95, sum without (pod) (rate(f[5m]))) > bool 1e3") == ["f"])
        #expect(PromQL.metricNames(in: "g unless h or i and j") == ["g", "h", "i", "j"])
        #expect(PromQL.metricNames(in: "topk by (x) (3, m) + count without(y)(n) + bylaw") == ["m", "n", "bylaw"])
        #expect(PromQL.metricNames(in: "sum(increase(k[${__range}])) # a comment naming l") == ["k"])
    }
}

/// Prometheus's `promtool`, if on the PATH.
enum Promtool {
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        .split(separator: ":").map { $0 + "/promtool" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// The metrics the Swift sources register: `Counter(label: "…")`, `Gauge(label:)`, `Timer(label:)`, … as
/// written in `Sources/` (see `Sources/Recovery/Observability/PoolMetrics.swift`).
enum SourceMetrics {
    enum Kind: Equatable { case counter, gauge, histogram }

    static func registered() throws -> [String: Kind] {
        let sources = Repository.root.appendingPathComponent("Sources")
        guard let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil) else {
            throw DeploymentError("cannot list \(sources.path)")
        }
        let declaration = #/\b(Counter|FloatingPointCounter|Gauge|Meter|Recorder|Timer)\s*\(\s*label:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/#
        var metrics: [String: Kind] = [:]
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: declaration) {
                let kind: Kind = switch match.output.1 {
                case "Counter", "FloatingPointCounter": .counter
                case "Timer": .histogram
                // `Recorder(label:)` aggregates into a histogram unless told otherwise.
                case "Recorder": text[match.range.upperBound...].prefix { $0 != ")" }.contains("aggregate: false") ? .gauge : .histogram
                default: .gauge
                }
                metrics[String(match.output.2)] = kind
            }
        }
        return metrics
    }

    /// The registered metric a series name belongs to (a histogram's `_bucket`, `_sum`, `_count`), or nil.
    static func metric(of series: String, in registered: [String: Kind]) -> String? {
        if registered[series] != nil { return series }
        for suffix in ["_bucket", "_sum", "_count"] where series.hasSuffix(suffix) {
            let base = String(series.dropLast(suffix.count))
            if registered[base] == .histogram { return base }
        }
        return nil
    }
}

/// Just enough of PromQL to list the metric names an expression selects: skips strings, label matchers,
/// ranges, Grafana variables, numbers and durations, comments, function and aggregation names, keywords and
/// the label lists of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`.
enum PromQL {
    static let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                                        "group_left", "group_right", "inf", "nan"]
    static let labelListKeywords: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    static func metricNames(in expression: String) -> [String] {
        let characters = Array(expression)
        var names: [String] = []
        var index = 0
        func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c == ":" || (c.isASCII && c.isLetter) }
        func isIdentifier(_ c: Character) -> Bool { isIdentifierStart(c) || (c.isASCII && c.isNumber) }
        /// Index after the bracket closing the one at `start`, strings inside skipped.
        func skipBalanced(from start: Int, open: Character, close: Character) -> Int {
            var depth = 0, i = start
            while i < characters.count {
                let c = characters[i]
                if c == "\"" || c == "'" || c == "`" { i = skipString(from: i); continue }
                if c == open { depth += 1 } else if c == close { depth -= 1; if depth == 0 { return i + 1 } }
                i += 1
            }
            return i
        }
        func skipString(from start: Int) -> Int {
            let quote = characters[start]
            var i = start + 1
            while i < characters.count, characters[i] != quote {
                i += (characters[i] == "\\" && quote != "`") ? 2 : 1
            }
            return i + 1
        }
        func nextNonSpace(_ from: Int) -> Int {
            var i = from
            while i < characters.count, characters[i].isWhitespace { i += 1 }
            return i
        }
        while index < characters.count {
            let c = characters[index]
            if c == "\"" || c == "'" || c == "`" {
                index = skipString(from: index)
            } else if c == "{" {
                index = skipBalanced(from: index, open: "{", close: "}")
            } else if c == "[" {
                index = skipBalanced(from: index, open: "[", close: "]")
            } else if c == "#" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
            } else if c == "$" {
                index += 1
                if index < characters.count, characters[index] == "{" {
                    index = skipBalanced(from: index, open: "{", close: "}")
                } else {
                    while index < characters.count, isIdentifier(characters[index]) { index += 1 }
                }
            } else if (c.isASCII && c.isNumber) || (c == "." && index + 1 < characters.count && characters[index + 1].isNumber) {
                // A number or a duration (0.95, 1e3, 5m, 1h30m).
                while index < characters.count, characters[index].isASCII, characters[index].isLetter || characters[index].isNumber || characters[index] == "." { index += 1 }
            } else if isIdentifierStart(c) {
                let start = index
                while index < characters.count, isIdentifier(characters[index]) { index += 1 }
                let word = String(characters[start..<index])
                let next = nextNonSpace(index)
                let opensParenthesis = next < characters.count && characters[next] == "("
                // `sum by (…) (…)`, `max without (…) (…)`: an aggregation with its grouping first.
                var following = next
                while following < characters.count, isIdentifier(characters[following]) { following += 1 }
                let groupsFirst = ["by", "without"].contains(String(characters[next..<following]).lowercased())
                if labelListKeywords.contains(word.lowercased()) {
                    if opensParenthesis { index = skipBalanced(from: next, open: "(", close: ")") }
                } else if keywords.contains(word.lowercased()) || opensParenthesis || groupsFirst {
                    continue  // a keyword, or a function or aggregation name
                } else {
                    names.append(word)
                }
            } else {
                index += 1
            }
        }
        return names
    }
}

/// A YAML file read by the Compose binary (Go's YAML parser), so that the tests need no YAML package:
/// the file, indented, becomes an extension field of a throwaway Compose file, read back as JSON with
/// `config --format json --no-interpolate`. Enough for one-document configuration files.
enum YAMLDocument {
    static func load(_ relativePath: String) throws -> JSONValue {
        let text = try String(contentsOf: Repository.root.appendingPathComponent(relativePath), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---" { lines.removeFirst() }
        guard !lines.contains(where: { $0.hasPrefix("---") || $0.hasPrefix("...") }) else {
            throw DeploymentError("\(relativePath): more than one YAML document")
        }
        guard !text.contains("\t") else { throw DeploymentError("\(relativePath): a tab (YAML indents with spaces)") }
        let embedded = "services:\n  yaml-reader:\n    image: scratch\nx-document:\n"
            + lines.map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n") + "\n"

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xiaozhi-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("compose.yml")
        try embedded.write(to: file, atomically: true, encoding: .utf8)
        let result = try ProcessRun.run(try ComposeModel.composeBinary(), ["-f", file.path, "config", "--format", "json", "--no-interpolate"],
                                        environment: ["COMPOSE_PROJECT_NAME": "xiaozhi-yaml-check"])
        guard result.status == 0 else { throw DeploymentError("\(relativePath) is not valid YAML: \(result.error)") }
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
        guard let document = value["x-document"], case .object = document else {
            throw DeploymentError("\(relativePath): not a YAML mapping")
        }
        return document
    }
}
