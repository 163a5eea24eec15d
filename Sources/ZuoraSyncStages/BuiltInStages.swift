import ZuoraSyncEngine

/// The stage kinds this tool ships, in their usual order. The one place that lists them.
public enum BuiltInStages {
    public static let kinds: [any StageKind.Type] = [
        ValidateCredentials.self, OAuthToken.self, FetchWorkflowPages.self, DownloadExports.self,
        SaveWorkflows.self, ExtractTasks.self, CleanupObsolete.self, WriteReport.self,
    ]

    /// A registry of the built-in kinds; add your own with `adding(_:)`.
    public static let registry = StageRegistry(kinds)
}
