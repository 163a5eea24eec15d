import Foundation

/// Loads and checks the customers file before any network call.
public enum CustomersLoader {
    public static func load(path: String) throws -> [CustomerConfig] {
        try parse(document: YAMLDocument.load(path: path))
    }

    public static func parse(text: String, file: String) throws -> [CustomerConfig] {
        try parse(document: YAMLDocument(text: text, file: file))
    }

    /// The installation's `store:` in the customers file, if any: `store: sqlite`, or
    /// `store: {url: postgresql://user@host:5432/db, password_env: ZUORA_SYNC_PGPASSWORD}`.
    public static func store(path: String) throws -> StoreLocation? {
        try store(document: YAMLDocument.load(path: path))
    }

    static func store(document: YAMLDocument) throws -> StoreLocation? {
        let top = try document.mapping(document.root, path: "")
        guard top.node("store") != nil else { return nil }
        if let settings = try? top.submapping("store") {
            let url = try settings.requiredString("url")
            let passwordEnv = try settings.string("password_env")
            try settings.rejectUnknownKeys()
            do { return try StoreLocation.parse(url, passwordEnv: passwordEnv, origin: document.file) } catch let error as ConfigurationError {
                throw settings.error("url", error.message)
            }
        }
        let text = try top.requiredString("store")
        do { return try StoreLocation.parse(text, origin: document.file) } catch let error as ConfigurationError {
            throw top.error("store", error.message)
        }
    }

    static func parse(document: YAMLDocument) throws -> [CustomerConfig] {
        let top = try document.mapping(document.root, path: "")
        _ = try top.int("format_version", default: 1, range: 1...1)
        let entries = try top.sequence("customers") ?? []
        _ = top.node("store") // read by `store(path:)`
        try top.rejectUnknownKeys()
        var customers: [CustomerConfig] = []
        for (node, path) in entries {
            let entry = try document.mapping(node, path: path)
            let id = try entry.requiredString("id")
            let where_ = "customer '\(id)'"
            guard SafeIdentifier.isValidCustomerID(id) else {
                throw entry.error("id", "'\(id)' is not a valid customer id; use lower-case letters, digits, '-' and '_' (it becomes a directory name).")
            }
            let name = try entry.string("name") ?? id
            let urlText = try entry.requiredString("base_url").trimmingCharacters(in: .whitespaces)
            guard let url = URL(string: urlText.hasSuffix("/") ? String(urlText.dropLast()) : urlText), url.scheme != nil else {
                throw entry.error("base_url", "\(where_): '\(urlText)' is not a URL.")
            }
            if let problem = BaseURLRules.problem(with: url) {
                // Never repeat a password given in the URL.
                let shown = url.password == nil && url.user == nil ? urlText : "\(url.scheme ?? "")://***@\(url.host ?? "")"
                throw entry.error("base_url", "\(where_): '\(shown)' \(problem).")
            }
            if url.query != nil || url.fragment != nil {
                throw entry.error("base_url", "\(where_): the base URL must not have a query or fragment.")
            }
            let clientID = try entry.requiredString("client_id")
            let fromEnv = try entry.string("client_secret_env")
            let fromFile = try entry.string("client_secret_file")
            let inline = try entry.string("client_secret")
            let entityIDs = try entry.string("entity_ids")
            try entry.rejectUnknownKeys()
            let given = [fromEnv, fromFile, inline].compactMap { $0 }
            guard given.count == 1 else {
                throw entry.error("client_id", "\(where_): give exactly one of client_secret_env (a variable name) or client_secret_file (a path)"
                    + (given.isEmpty ? "; none is set." : "; several are set."))
            }
            let secret: SecretSource
            if let fromEnv {
                secret = .environment(fromEnv)
            } else if let fromFile {
                secret = .file(fromFile)
            } else {
                guard url.scheme == BaseURLRules.fixtureScheme || BaseURLRules.isLoopback(url) else {
                    throw entry.error("client_secret", "\(where_): an inline secret is accepted only for fixture:// and loopback base URLs; use client_secret_env or client_secret_file.")
                }
                secret = .inline(inline!)
            }
            if customers.contains(where: { $0.id == id }) {
                throw entry.error("id", "customer id '\(id)' is used twice; ids must be unique.")
            }
            customers.append(CustomerConfig(id: id, name: name, baseURL: url, clientID: clientID, secret: secret, entityIDs: entityIDs))
        }
        return customers
    }
}
