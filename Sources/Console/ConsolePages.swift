/// The console's HTML: one shell per page (navigation, an empty main area the script fills, no inline
/// script or style, so the content security policy can forbid both) and the sign-in form.
public enum ConsolePages {
    static let navigation: [ConsolePage] = [.overview, .endpoints, .workers, .queues, .deadLetters]

    public static func page(_ page: ConsolePage, role: ConsoleRole) -> String {
        let links = navigation.map { item in
            let current = item == page || (page == .endpoint && item == .endpoints)
            return "<a href=\"\(item.path)\"\(current ? " aria-current=\"page\"" : "")>\(item.title)</a>"
        }.joined()
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(page.title) · Recovery pool console</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/assets/console.css">
            <script src="/assets/console.js" defer></script>
            </head>
            <body data-page="\(page.rawValue)" data-role="\(role.rawValue)">
            <header>
            <span class="brand">Recovery pool</span>
            <nav>\(links)</nav>
            <span id="live" class="live" title="Live updates">○ paused</span>
            <form method="post" action="/logout" class="signout"><button type="submit">Sign out (\(role.rawValue))</button></form>
            </header>
            <main id="main"><h1>\(page.title)</h1><p class="muted" id="status">Loading…</p></main>
            </body>
            </html>
            """
    }

    public static func signIn(failed: Bool) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>Sign in · Recovery pool console</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/assets/console.css">
        </head>
        <body data-page="signin">
        <main class="signin">
        <h1>Recovery pool console</h1>
        \(failed ? "<p class=\"error\" role=\"alert\">That token does not sign in.</p>" : "")
        <form method="post" action="/login">
        <label for="token">Console token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required minlength="16">
        <button type="submit">Sign in</button>
        </form>
        <p class="muted">Console:AdminToken signs in with every right; Console:ViewerToken read-only.</p>
        </main>
        </body>
        </html>
        """
    }
}
