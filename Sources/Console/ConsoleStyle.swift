/// The console's stylesheet: system fonts, light and dark by the system's preference, tables that scroll
/// sideways on a phone.
enum ConsoleStyle {
    static let css = #"""
    :root { --bg:#ffffff; --fg:#1b1f24; --muted:#5b6572; --line:#d8dee4; --card:#f6f8fa; --accent:#0b62d6;
            --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; color-scheme: light dark; }
    @media (prefers-color-scheme: dark) {
      :root { --bg:#0d1117; --fg:#e6edf3; --muted:#8d96a0; --line:#30363d; --card:#161b22; --accent:#4493f8;
              --ok:#3fb950; --warn:#d29922; --bad:#f85149; }
    }
    * { box-sizing: border-box; }
    body { margin:0; background:var(--bg); color:var(--fg); font:15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
    header { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:center; padding:.6rem 1rem; border-bottom:1px solid var(--line); }
    .brand { font-weight:600; }
    nav { display:flex; flex-wrap:wrap; gap:.25rem; }
    nav a { color:var(--fg); text-decoration:none; padding:.25rem .55rem; border-radius:6px; }
    nav a[aria-current=page] { background:var(--card); outline:1px solid var(--line); }
    .live { font-size:.85rem; color:var(--muted); margin-left:auto; }
    .live.on { color:var(--ok); }
    .signout button { font-size:.85rem; }
    main { padding:1rem; max-width:1200px; margin:0 auto; }
    h1 { font-size:1.35rem; margin:.2rem 0 1rem; }
    h2 { font-size:1.1rem; margin:1.4rem 0 .6rem; }
    .muted { color:var(--muted); }
    .error { color:var(--bad); }
    .cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(150px, 1fr)); gap:.75rem; align-items:start; }
    .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.7rem .8rem; }
    .card .label { color:var(--muted); font-size:.8rem; }
    .card .value { font-size:1.35rem; font-weight:600; }
    .card.bad .value { color:var(--bad); }
    .card.ok .value { color:var(--ok); }
    .table-wrap { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
    table { border-collapse:collapse; width:100%; font-size:.9rem; }
    th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); white-space:nowrap; }
    td.wrap { white-space:normal; min-width:16rem; }
    th { background:var(--card); font-weight:600; }
    tr:last-child td { border-bottom:none; }
    a { color:var(--accent); }
    .state-Connected { color:var(--ok); }
    .state-missing, .state-Failed, .state-parked, .state-unreadable { color:var(--bad); }
    .state-Connecting, .state-Disconnected { color:var(--warn); }
    .toolbar { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; margin:.5rem 0 .8rem; }
    input, select, button { font:inherit; color:inherit; background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:.35rem .6rem; }
    button { cursor:pointer; background:var(--card); }
    button.danger { color:var(--bad); }
    button:disabled { opacity:.5; cursor:default; }
    .chart { width:100%; height:160px; display:block; background:var(--card); border:1px solid var(--line); border-radius:8px; }
    .chart .recovered { fill:var(--ok); }
    .chart .failed { fill:var(--bad); }
    .chart .axis { stroke:var(--line); }
    .chart text { fill:var(--muted); font-size:10px; }
    .legend { display:flex; flex-wrap:wrap; gap:.8rem; font-size:.85rem; color:var(--muted); margin:.3rem 0; }
    .swatch { display:inline-block; width:.8rem; height:.8rem; border-radius:2px; margin-right:.3rem; vertical-align:-1px; }
    .swatch.ok { background:var(--ok); }
    .swatch.bad { background:var(--bad); }
    .notice { margin:.6rem 0; padding:.5rem .7rem; border-radius:6px; background:var(--card); border:1px solid var(--line); }
    dl.fields { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1rem; }
    dl.fields dt { color:var(--muted); }
    dl.fields dd { margin:0; overflow-wrap:anywhere; }
    .signin { max-width:24rem; margin-top:10vh; }
    .signin form { display:grid; gap:.6rem; }
    @media (max-width: 600px) { main { padding:.6rem; } .card .value { font-size:1.25rem; } }
    """#
}
