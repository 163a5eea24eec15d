/// The kinds of stage a pipeline can chain, in the only order that makes sense, each with the
/// kinds whose output it reads.
public enum StageKind: String, CaseIterable, Sendable, Codable {
    case validateCredentials = "validate-credentials"
    case oauthToken = "oauth-token"
    case fetchWorkflowPages = "fetch-workflow-pages"
    case downloadExports = "download-exports"
    case saveWorkflows = "save-workflows"
    case extractTasks = "extract-tasks"
    case cleanupObsolete = "cleanup-obsolete"

    /// Position in the canonical order; stages must appear in increasing rank.
    public var rank: Int { StageKind.allCases.firstIndex(of: self)! }

    /// Kinds that must appear earlier in the same pipeline.
    public var requirements: [StageKind] {
        switch self {
        case .validateCredentials: return []
        case .oauthToken: return [.validateCredentials]
        case .fetchWorkflowPages: return [.oauthToken]
        case .downloadExports: return [.fetchWorkflowPages]
        case .saveWorkflows: return [.fetchWorkflowPages, .downloadExports]
        case .extractTasks: return [.saveWorkflows]
        case .cleanupObsolete: return [.fetchWorkflowPages, .saveWorkflows]
        }
    }
}
