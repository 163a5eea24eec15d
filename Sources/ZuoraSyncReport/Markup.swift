import Foundation
import Plot

/// A node of a report page's body. Pages are built from Plot nodes: Plot renders them and escapes
/// every text node; attribute values pass through `Markup.attribute`, which escapes them too
/// (Plot writes attribute values as given).
public typealias PageNode = Node<HTML.BodyContext>

/// The few building blocks the pages share: elements by name, escaped attributes, the page shell.
enum Markup {
    /// An element with children (attributes and nodes).
    static func element(_ name: String, _ children: PageNode...) -> PageNode { .element(named: name, nodes: children) }
    /// An element with children (attributes and nodes).
    static func element(_ name: String, _ children: [PageNode]) -> PageNode { .element(named: name, nodes: children) }
    /// An attribute whose value is escaped (`&`, `"`, `<`, `>`), whatever it came from.
    static func attribute(_ name: String, _ value: String) -> PageNode {
        .attribute(named: name, value: escapeAttribute(value), ignoreIfValueIsEmpty: false)
    }
    /// Escaped text.
    static func text(_ value: String) -> PageNode { .text(value) }
    /// `class="..."`.
    static func cls(_ value: String) -> PageNode { attribute("class", value) }
    /// A link.
    static func link(_ href: String, _ label: String, _ more: PageNode...) -> PageNode {
        element("a", [attribute("href", href), text(label)] + more)
    }
    /// A table with a header row and rows of cells.
    static func table(id: String? = nil, headers: [String], rows: [PageNode]) -> PageNode {
        element("table", [id.map { attribute("id", $0) } ?? .empty,
                          element("thead", element("tr", headers.map { element("th", text($0)) })),
                          element("tbody", rows)])
    }
    /// A table cell with text.
    static func cell(_ value: String, _ more: PageNode...) -> PageNode { element("td", [text(value)] + more) }
    /// A status badge (`succeeded`, `failed`, ...).
    static func badge(_ status: String) -> PageNode {
        element("span", cls("badge \(badgeClass(status))"), text(status))
    }

    static func badgeClass(_ status: String) -> String {
        switch status {
        case "succeeded", "committed", "done", "Active", "ok": return "ok"
        case "failed", "interrupted": return "bad"
        case "running", "waiting", "skipped", "dry-run": return "warn"
        default: return "neutral"
        }
    }

    /// Escapes a value for a double-quoted attribute.
    static func escapeAttribute(_ value: String) -> String {
        var result = ""
        result.reserveCapacity(value.count)
        for character in value {
            switch character {
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A whole page: title, inline style, navigation relative to `root` (`""`, `"../"`, `"../../"`),
    /// the body, and an optional inline script. Nothing is loaded from the network.
    static func page(title: String, root: String, generatedAt: String, body: [PageNode], script: String? = nil) -> String {
        let html = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                // Not Plot's `.title`, which adds og:/twitter: meta tags whose content it does not escape.
                .element(named: "title", nodes: [.text(title)]),
                .style(ReportStyle.css)
            ),
            .body(
                .group([
                    element("nav", cls("top"),
                            link(root + "index.html", "Overview"), link(root + "jobs.html", "Jobs"), link(root + "runs.html", "Runs"),
                            element("span", cls("generated"), text("generated \(generatedAt)"))),
                    element("main", body),
                    script.map { element("script", .raw($0)) } ?? .empty,
                ])
            )
        )
        return html.render(indentedBy: .spaces(1)) + "\n"
    }
}
